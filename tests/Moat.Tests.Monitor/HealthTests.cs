using Moat.Monitor.Protocol;

namespace Moat.Tests.Monitor;

public class HealthTests
{
    static HealthCheck Check(params string[] command) => new()
    {
        Command = command, Interval = TimeSpan.FromMilliseconds(200), Timeout = TimeSpan.FromSeconds(20), Retries = 2,
    };

    [Fact]
    public void FailingCheckMakesTheContainerUnhealthy()
    {
        using var container = new MonitoredContainer(["sleep", "1000"], c => c with { Health = Check("sh", "-c", "echo probe-failed; exit 1") });
        container.Create();
        container.AttachAndStart().Dispose();
        Wait.Until(() => container.Health?.Status == HealthStates.Unhealthy, TimeSpan.FromSeconds(60), () => $"not unhealthy: {container.Health}\n{container.MonitorLog}");
        var health = container.Health!;
        Assert.True(health.FailingStreak >= 2);
        Assert.All(health.Log, p => Assert.Equal(1, p.ExitCode));
        Assert.Contains("probe-failed", health.Log[^1].Output);
        Assert.InRange(health.Log.Count, 2, 5);
        var change = Assert.Single(container.Events(), e => e.Action == "health_status");
        Assert.Equal(HealthStates.Unhealthy, change.Attributes!["health_status"]);
        File.WriteAllText(Path.Combine(container.Directory, ContainerFiles.StopRequested), "");
        container.RuntimeCommand("kill", container.Id, "KILL").Ok();
        container.WaitForMonitorExit();
    }

    [Fact]
    public void PassingCheckMakesTheContainerHealthy()
    {
        using var container = new MonitoredContainer(["sleep", "1000"], c => c with { Health = Check("true") });
        container.Create();
        container.AttachAndStart().Dispose();
        Assert.Equal(HealthStates.Starting, container.Health?.Status ?? HealthStates.Starting);
        Wait.Until(() => container.Health?.Status == HealthStates.Healthy, TimeSpan.FromSeconds(60), () => $"not healthy: {container.Health}\n{container.MonitorLog}");
        Assert.Equal(0, container.Health!.FailingStreak);
        Assert.Equal(0, container.Health.Log[^1].ExitCode);
        Assert.Contains(container.Events(), e => e.Action == "health_status" && e.Attributes!["health_status"] == HealthStates.Healthy);
        container.RuntimeCommand("kill", container.Id, "KILL").Ok();
        container.WaitForMonitorExit();
    }
}
