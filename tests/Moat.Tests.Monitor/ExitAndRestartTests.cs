using System.Diagnostics;
using Moat.Monitor.Protocol;

namespace Moat.Tests.Monitor;

/// <summary>Exit records, the restart policy, stop-requested, the exit command and a monitor killed under its container.</summary>
public class ExitAndRestartTests
{
    [Fact]
    public void DeathBySignalIsRecordedAs128PlusSignal()
    {
        using var container = new MonitoredContainer(["sleep", "1000"]);
        container.Create();
        using var client = container.AttachAndStart();
        container.RuntimeCommand("kill", container.Id, "KILL").Ok();
        Assert.Equal(137, MonitoredContainer.ReadUntilExit(client).ExitCode);
        container.WaitForMonitorExit();
        Assert.Equal(137, container.Exit!.ExitCode);
        Assert.Equal(9, container.Exit.Signal);
    }

    [Fact]
    public void OnFailureWithTwoRetriesBringsACrashingContainerBackExactlyTwice()
    {
        using var container = new MonitoredContainer(["sh", "-c", "echo run; exit 1"],
            c => c with { Restart = new RestartPolicy { Name = RestartPolicies.OnFailure, MaximumRetryCount = 2 } });
        container.Create();
        using (var client = container.AttachAndStart())
            Assert.Equal(1, MonitoredContainer.ReadUntilExit(client).ExitCode);
        var status = container.WaitForMonitorExit();
        Assert.Equal(2, status.RestartCount);
        Assert.Equal(1, container.Exit!.ExitCode);
        Assert.Equal(3, LogReader.Read(container.LogPath, LogDrivers.K8sFile).Count(e => e.Text == "run\n"));
        var actions = container.Events().Select(e => e.Action).ToList();
        Assert.Equal(["start", "die", "restart", "start", "die", "restart", "start", "die"], actions);
        Assert.Null(container.RuntimeStatus());
    }

    [Fact]
    public void OnFailureDoesNotRestartASuccess()
    {
        using var container = new MonitoredContainer(["true"],
            c => c with { Restart = new RestartPolicy { Name = RestartPolicies.OnFailure } });
        container.Create();
        using (var client = container.AttachAndStart())
            Assert.Equal(0, MonitoredContainer.ReadUntilExit(client).ExitCode);
        Assert.Equal(0, container.WaitForMonitorExit().RestartCount);
    }

    [Fact]
    public void AlwaysRestartsUntilStopIsRequested()
    {
        using var container = new MonitoredContainer(["sh", "-c", "echo up; exit 0"],
            c => c with { Restart = new RestartPolicy { Name = RestartPolicies.Always } });
        container.Create();
        container.AttachAndStart().Dispose();
        Wait.Until(() => container.Status?.RestartCount >= 2, TimeSpan.FromSeconds(60), () => $"no second restart: {container.Status}");
        File.WriteAllText(Path.Combine(container.Directory, ContainerFiles.StopRequested), "");
        var status = container.WaitForMonitorExit();
        Assert.True(status.RestartCount >= 2);
        Assert.Null(container.RuntimeStatus());
    }

    [Fact]
    public void StopRequestedPreventsTheRestart()
    {
        using var container = new MonitoredContainer(["sleep", "1000"],
            c => c with { Restart = new RestartPolicy { Name = RestartPolicies.UnlessStopped } });
        container.Create();
        using var client = container.AttachAndStart();
        Assert.Equal(ContainerStates.Running, container.Status!.State);
        File.WriteAllText(Path.Combine(container.Directory, ContainerFiles.StopRequested), "");
        container.RuntimeCommand("kill", container.Id, "KILL").Ok();
        Assert.Equal(137, MonitoredContainer.ReadUntilExit(client).ExitCode);
        var status = container.WaitForMonitorExit();
        Assert.Equal(0, status.RestartCount);
        Assert.DoesNotContain("restart", container.Events().Select(e => e.Action));
    }

    [Fact]
    public void ExitCommandRunsAfterTheLastExit()
    {
        // $0 is the container's directory (the bundle's parent).
        using var container = new MonitoredContainer(["true"], c => c with
        {
            ExitCommand = ["/bin/sh", "-c", "cat \"$0/status.json\" > \"$0/exit-command-saw\"", Path.GetDirectoryName(c.Bundle)!],
        });
        container.Create();
        container.AttachAndStart().Dispose();
        container.WaitForMonitorExit();
        var saw = Path.Combine(container.Directory, "exit-command-saw");
        Wait.Until(() => File.Exists(saw) && File.ReadAllText(saw).Length > 0, TimeSpan.FromSeconds(30), () => "the exit command did not run");
        Assert.Contains("\"state\":\"exited\"", File.ReadAllText(saw)); // it ran after the status said exited
    }

    /// <summary>An exit command that leaves a mark, so a test can tell whether it ran.</summary>
    static MonitorConfig MarkingExitCommand(MonitorConfig c) => c with
    {
        ExitCommand = ["/bin/sh", "-c", "echo ran > \"$0/exit-command-ran\"", Path.GetDirectoryName(c.Bundle)!],
    };

    [Fact]
    public void AClientThatRemovesTheContainerGetsDeletedAndTheExitCommandDoesNotRun()
    {
        using var container = new MonitoredContainer(["sh", "-c", "exit 4"], MarkingExitCommand);
        container.Create();
        using var client = container.AttachClaimingRemovalAndStart();
        Assert.Equal(4, MonitoredContainer.ReadUntilExit(client).ExitCode);
        // Still connected after Exited; Deleted once the runtime has forgotten the container and the status says so.
        var deleted = client.Receive(TimeSpan.FromSeconds(60)) ?? throw new Xunit.Sdk.XunitException("the monitor closed the connection instead of sending Deleted");
        Assert.Equal(AttachFrames.Deleted, deleted.Type);
        Assert.Null(container.RuntimeStatus());
        Assert.Equal(ContainerStates.Exited, container.Status!.State);
        Assert.Equal(4, container.Exit!.ExitCode);
        // Until the client answers, the monitor waits (and runs nothing).
        Assert.True(MonitoredContainer.Alive(container.Status.MonitorPid, container.Status.MonitorStartTime));
        client.Send(AttachFrames.Removed);
        container.WaitForMonitorExit();
        Assert.False(File.Exists(Path.Combine(container.Directory, "exit-command-ran")), "the exit command ran although the client removed the container");
    }

    [Fact]
    public void AClientThatGoesWithoutRemovingLeavesTheExitCommandToRun()
    {
        using var container = new MonitoredContainer(["true"], MarkingExitCommand);
        container.Create();
        using (var client = container.AttachClaimingRemovalAndStart())
        {
            Assert.Equal(0, MonitoredContainer.ReadUntilExit(client).ExitCode);
            Assert.Equal(AttachFrames.Deleted, client.Receive(TimeSpan.FromSeconds(60))!.Value.Type);
            // Hangs up here without Removed, as a killed `run --rm` would.
        }
        container.WaitForMonitorExit();
        var ran = Path.Combine(container.Directory, "exit-command-ran");
        Wait.Until(() => File.Exists(ran), TimeSpan.FromSeconds(30), () => $"the exit command did not run\nmonitor.log: {container.MonitorLog}");
    }

    [Fact]
    public void AClaimDroppedBeforeTheExitLeavesTheExitCommandToRun()
    {
        using var container = new MonitoredContainer(["sleep", "1000"], MarkingExitCommand);
        container.Create();
        // The claiming client hangs up while the container still runs.
        container.AttachClaimingRemovalAndStart().Dispose();
        container.RuntimeCommand("kill", container.Id, "KILL").Ok();
        container.WaitForMonitorExit();
        var ran = Path.Combine(container.Directory, "exit-command-ran");
        Wait.Until(() => File.Exists(ran), TimeSpan.FromSeconds(30), () => $"the exit command did not run\nmonitor.log: {container.MonitorLog}");
    }

    [Fact]
    public void AFailedCreateIsReportedOnTheSyncPipeAndCleanedUp()
    {
        using var container = new MonitoredContainer(["true"], c => c with { Bundle = "/nonexistent/bundle" });
        var line = container.StartMonitor();
        Assert.StartsWith("{\"error\":\"", line);
        Assert.Contains("nonexistent", line);
        var status = container.WaitForMonitorExit();
        Assert.NotNull(status.Error);
        Assert.Null(container.RuntimeStatus());
    }

    [Fact]
    public void KillingTheMonitorLeavesTheContainerRunning()
    {
        using var container = new MonitoredContainer(["sleep", "1000"]);
        var pid = container.Create();
        container.AttachAndStart().Dispose();
        var monitor = container.Status!.MonitorPid;
        Process.GetProcessById(monitor).Kill(); // SIGKILL
        Wait.Until(() => !MonitoredContainer.Alive(monitor, container.Status!.MonitorStartTime), TimeSpan.FromSeconds(30), () => "the monitor did not die");
        Assert.Equal("running", container.RuntimeStatus());
        Assert.True(Directory.Exists($"/proc/{pid}"));
        Assert.Equal(ContainerStates.Running, container.Status!.State); // what the monitor last knew; the engine checks its pid
    }

    [Fact]
    public void AnOomKillIsRecordedAndReported()
    {
        // The shell collects 256 MB into a variable under a 32 MB limit: the cgroup's OOM killer ends it.
        using var container = new MonitoredContainer(["sh", "-c", "x=$(head -c 268435456 /dev/zero | tr '\\0' a); echo survived"],
            editSpec: spec => spec["linux"]!["resources"] = System.Text.Json.Nodes.JsonNode.Parse("""{"memory":{"limit":33554432,"swap":33554432}}"""));
        container.Create();
        using var client = container.AttachAndStart();
        var (stdout, _, code) = MonitoredContainer.ReadUntilExit(client);
        Assert.DoesNotContain("survived", stdout);
        Assert.Equal(137, code);
        container.WaitForMonitorExit();
        Assert.True(container.Exit!.OomKilled, $"exit.json: {container.Exit}");
        var actions = container.Events().Select(e => e.Action).ToList();
        Assert.Equal(["start", "oom", "die"], actions);
    }
}
