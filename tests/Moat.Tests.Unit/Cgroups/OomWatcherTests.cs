using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Xunit;

namespace Moat.Tests.Unit.Cgroups;

public sealed class OomWatcherTests
{
    [Fact]
    public void V2CountsOomKillsInMemoryEvents()
    {
        using var fs = FakeCgroupFs.V2();
        fs.Set("unified", "memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\noom_group_kill 0\n");
        var watcher = new OomWatcher(fs.Cgroup());

        Assert.Equal(fs.File("unified", "memory.events"), watcher.EventsFile);
        Assert.Equal(1, watcher.OomKillCount());
        Assert.Equal(0, watcher.NewOomKills()); // the kills before the watcher count as seen

        fs.Set("unified", "memory.events", "low 0\nhigh 0\nmax 9\noom 5\noom_kill 4\noom_group_kill 0\n");
        Assert.Equal(3, watcher.NewOomKills());
        Assert.Equal(0, watcher.NewOomKills());
        Assert.False(watcher.UnderOom());
    }

    [Fact]
    public void V1CountsOomKillsInMemoryOomControl()
    {
        using var fs = FakeCgroupFs.V1();
        var watcher = new OomWatcher(fs.Cgroup());

        Assert.Equal(fs.File("memory", "memory.oom_control"), watcher.EventsFile);
        Assert.Equal(0, watcher.OomKillCount());

        fs.Set("memory", "memory.oom_control", "oom_kill_disable 1\nunder_oom 1\noom_kill 2\n");
        Assert.Equal(2, watcher.OomKillCount());
        Assert.Equal(2, watcher.NewOomKills());
        Assert.True(watcher.UnderOom());
    }

    [Fact]
    public void OldV1KernelsHaveNoCount()
    {
        using var fs = FakeCgroupFs.V1();
        fs.Set("memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
        var watcher = new OomWatcher(fs.Cgroup());

        Assert.Null(watcher.TryOomKillCount());
        var e = Assert.Throws<RuntimeException>(() => watcher.OomKillCount());
        Assert.Equal($"{fs.File("memory", "memory.oom_control")} has no oom_kill count (it needs Linux 4.13 or later)", e.Message);
    }

    [Fact]
    public void AGoneCgroupIsReported()
    {
        using var fs = FakeCgroupFs.V2();
        var watcher = new OomWatcher(fs.Cgroup());
        File.Delete(fs.File("unified", "memory.events"));

        var e = Assert.Throws<RuntimeException>(() => watcher.OomKillCount());

        Assert.Equal($"cannot read {fs.File("unified", "memory.events")}: the container's memory cgroup does not exist", e.Message);
    }

    [Fact]
    public void NoMemoryControllerNoWatcher()
    {
        using var fs = FakeCgroupFs.V1(null, "memory");

        var e = Assert.Throws<RuntimeException>(() => new OomWatcher(fs.Cgroup()));

        Assert.Equal("cannot watch the container for OOM kills: the host has no memory cgroup hierarchy", e.Message);
    }
}
