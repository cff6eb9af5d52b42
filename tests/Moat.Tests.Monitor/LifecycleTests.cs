using Moat.Monitor.Protocol;

namespace Moat.Tests.Monitor;

public class LifecycleTests
{
    [Fact]
    public void CreateReportsPidThenStartRunsAndExitIsRecorded()
    {
        using var container = new MonitoredContainer(["sh", "-c", "echo hello; echo oops >&2; printf part; sleep 0.1; echo ial; exit 3"]);
        var pid = container.Create();
        var created = container.Status!;
        Assert.Equal(ContainerStates.Created, created.State);
        Assert.Equal(pid, created.Pid);
        Assert.True(created.PidStartTime > 0);
        Assert.True(MonitoredContainer.Alive(created.MonitorPid, created.MonitorStartTime));
        Assert.Equal("created", container.RuntimeStatus());

        using var client = container.AttachAndStart();
        var (stdout, stderr, code) = MonitoredContainer.ReadUntilExit(client);
        Assert.Equal("hello\npartial\n", stdout);
        Assert.Equal("oops\n", stderr);
        Assert.Equal(3, code);

        var status = container.WaitForMonitorExit();
        Assert.Equal(0, status.Pid);
        Assert.NotNull(status.StartedAt);
        var exit = container.Exit!;
        Assert.Equal(3, exit.ExitCode);
        Assert.Equal(0, exit.Signal);
        Assert.False(exit.OomKilled);
        Assert.Null(container.RuntimeStatus()); // the monitor deleted it from the runtime

        var entries = LogReader.Read(container.LogPath, LogDrivers.K8sFile);
        Assert.Equal(["stdout:hello\n", "stderr:oops\n", "stdout:partial\n"], entries.Select(e => $"{e.Stream}:{e.Text}"));
        var raw = File.ReadAllLines(container.LogPath);
        Assert.Contains(raw, l => l.EndsWith(" stdout P part"));
        Assert.Contains(raw, l => l.EndsWith(" stdout F ial"));

        var events = container.Events().ToList();
        Assert.Equal(["start", "die"], events.Select(e => e.Action));
        Assert.Equal("3", events[1].Attributes!["exitCode"]);
        Assert.Equal(container.Config.Name, events[1].Attributes!["name"]);
    }
}
