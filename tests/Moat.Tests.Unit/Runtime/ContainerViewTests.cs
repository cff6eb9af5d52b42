using Moat.Runtime;
using Moat.Runtime.Lifecycle;
using Moat.Runtime.State;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public sealed class ContainerViewTests : IDisposable
{
    readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    static ulong OwnStartTime => ProcessInfo.Read(Environment.ProcessId)!.Value.StartTime;

    static RuntimeState Created(int pid, ulong startTime) => new()
    {
        Phase = RuntimeState.Phases.Created,
        Id = "c1",
        Pid = pid,
        PidStartTime = startTime,
    };

    void MakeFifoFile() => File.WriteAllText(dir.Combine(ContainerDirectory.ExecFifo), "");

    [Fact]
    public void NoStateIsCreating()
    {
        Assert.Equal(ContainerStatus.Creating, ContainerView.StatusOf(null, dir.Path));
    }

    [Fact]
    public void CreatingPhaseIsCreatingEvenWithALiveProcess()
    {
        var state = Created(Environment.ProcessId, OwnStartTime);
        state.Phase = RuntimeState.Phases.Creating;

        Assert.Equal(ContainerStatus.Creating, ContainerView.StatusOf(state, dir.Path));
    }

    [Fact]
    public void CreatedWithPidZeroIsStopped()
    {
        MakeFifoFile();

        Assert.Equal(ContainerStatus.Stopped, ContainerView.StatusOf(Created(0, 0), dir.Path));
    }

    [Fact]
    public void CreatedWithAReusedPidIsStopped()
    {
        MakeFifoFile();

        Assert.Equal(ContainerStatus.Stopped, ContainerView.StatusOf(Created(Environment.ProcessId, OwnStartTime + 1), dir.Path));
    }

    [Fact]
    public void LiveProcessWithTheFifoIsCreated()
    {
        MakeFifoFile();

        Assert.Equal(ContainerStatus.Created, ContainerView.StatusOf(Created(Environment.ProcessId, OwnStartTime), dir.Path));
    }

    [Fact]
    public void LiveProcessWithoutTheFifoIsRunning()
    {
        Assert.Equal(ContainerStatus.Running, ContainerView.StatusOf(Created(Environment.ProcessId, OwnStartTime), dir.Path));
    }

    [Fact]
    public void FrozenV1CgroupIsPaused()
    {
        var cgroup = Directory.CreateDirectory(dir.Combine("freezer")).FullName;
        File.WriteAllText(Path.Combine(cgroup, "freezer.state"), "FROZEN\n");
        var state = Created(Environment.ProcessId, OwnStartTime);
        state.CgroupDirectories = [cgroup];

        Assert.Equal(ContainerStatus.Paused, ContainerView.StatusOf(state, dir.Path));

        File.WriteAllText(Path.Combine(cgroup, "freezer.state"), "THAWED\n");
        Assert.Equal(ContainerStatus.Running, ContainerView.StatusOf(state, dir.Path));
    }

    [Fact]
    public void FrozenV2CgroupIsPaused()
    {
        var cgroup = Directory.CreateDirectory(dir.Combine("unified")).FullName;
        File.WriteAllText(Path.Combine(cgroup, "cgroup.freeze"), "1\n");
        var state = Created(Environment.ProcessId, OwnStartTime);
        state.CgroupDirectories = [dir.Combine("no-such-dir"), cgroup];

        Assert.Equal(ContainerStatus.Paused, ContainerView.StatusOf(state, dir.Path));

        File.WriteAllText(Path.Combine(cgroup, "cgroup.freeze"), "0\n");
        Assert.Equal(ContainerStatus.Running, ContainerView.StatusOf(state, dir.Path));
    }

    [Fact]
    public void LoadWithoutAStateFileIsCreating()
    {
        var view = ContainerView.Load("c1", dir.Path);

        Assert.Equal("c1", view.Id);
        Assert.Null(view.State);
        Assert.Equal(ContainerStatus.Creating, view.Status);
        Assert.Equal(0, view.Pid);
    }

    [Fact]
    public void LoadReadsTheStateFile()
    {
        File.WriteAllText(dir.Combine(ContainerDirectory.StateFile), "{\"phase\":\"created\",\"id\":\"c1\",\"pid\":0}");

        var view = ContainerView.Load("c1", dir.Path);

        Assert.Equal("c1", view.State?.Id);
        Assert.Equal(ContainerStatus.Stopped, view.Status);
    }

    [Fact]
    public void LoadOfACorruptStateFileIsARuntimeError()
    {
        var file = dir.Combine(ContainerDirectory.StateFile);
        File.WriteAllText(file, "{\"phase\":");

        var e = Assert.Throws<RuntimeException>(() => ContainerView.Load("c1", dir.Path));

        Assert.Contains(file, e.Message);
        Assert.Contains("corrupt", e.Message);
    }

    [Fact]
    public void StoppedViewReportsPidZero()
    {
        var view = new ContainerView("c1", Created(4242, 1), ContainerStatus.Stopped);
        var running = new ContainerView("c1", Created(4242, 1), ContainerStatus.Running);

        Assert.Equal(0, view.Pid);
        Assert.Equal(4242, running.Pid);
    }

    [Theory]
    [InlineData(ContainerStatus.Creating, "creating")]
    [InlineData(ContainerStatus.Created, "created")]
    [InlineData(ContainerStatus.Running, "running")]
    [InlineData(ContainerStatus.Paused, "paused")]
    [InlineData(ContainerStatus.Stopped, "stopped")]
    public void StatusSpecNames(ContainerStatus status, string name)
    {
        Assert.Equal(name, status.ToSpecString());
    }
}
