using Moat.Tests.Engines.Infrastructure;

namespace Moat.Tests.Engines;

/// <summary>
/// A test that fails half-way leaves its containers running: each engine's Dispose must still
/// leave nothing on the host (processes, mounts, cgroups, directories, sockets).
/// </summary>
public sealed class CleanupTests
{
    static void AssertNothingLeft(string directory, string cgroupParent, int containerPid, string daemonMarker)
    {
        Assert.False(IsAlive(containerPid), $"the container's process {containerPid} still runs");
        Assert.False(Directory.Exists(directory), $"{directory} is still there");
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), line => line.Contains(directory, StringComparison.Ordinal));
        Assert.False(Leftovers.CgroupExists(cgroupParent), $"cgroup {cgroupParent} is still there");
        Assert.Empty(Host.ProcessesWith(daemonMarker));
    }

    /// <summary>Alive and not a zombie waiting for a parent to reap it.</summary>
    static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public void PodmanLeavesNothingBehindWhenATestAbandonsARunningContainer()
    {
        var engine = new PodmanEngine();
        int pid;
        try
        {
            engine.Podman("run", "-d", "--name", "abandoned", BusyboxImage.Reference, "sleep", "1000").Ok();
            pid = int.Parse(engine.Podman("inspect", "--format", "{{.State.Pid}}", "abandoned").Ok().Stdout.Trim());
            Assert.True(IsAlive(pid));
        }
        finally
        {
            engine.Dispose();
        }
        AssertNothingLeft(engine.Directory, engine.CgroupParent, pid, engine.Directory);
    }

    [Fact]
    public void ContainerdLeavesNothingBehindWhenATestAbandonsARunningTask()
    {
        var engine = new ContainerdEngine();
        int pid;
        try
        {
            engine.Run(["--detach"], "abandoned", "sleep", "1000").Ok();
            pid = int.Parse(engine.Ctr("tasks", "ls").Ok().Stdout.Split('\n')
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).First(f => f.Length >= 2 && f[0] == "abandoned")[1]);
            Assert.True(IsAlive(pid));
        }
        finally
        {
            engine.Dispose();
        }
        AssertNothingLeft(engine.Directory, engine.CgroupParent, pid, engine.Directory);
    }

    [Fact]
    public void DockerLeavesNothingBehindWhenATestAbandonsARunningContainer()
    {
        var engine = new DockerEngine();
        int pid;
        try
        {
            engine.Docker("run", "-d", "--runtime", "moat", "--name", "abandoned", BusyboxImage.Reference, "sleep", "1000").Ok();
            pid = int.Parse(engine.Docker("inspect", "--format", "{{.State.Pid}}", "abandoned").Ok().Stdout.Trim());
            Assert.True(IsAlive(pid));
            // daemon.json moved the trust key that dockerd 20.10 writes into our directory.
            Assert.True(File.Exists(Path.Combine(engine.Directory, "key.json")), "dockerd did not write its key where daemon.json says");
        }
        finally
        {
            engine.Dispose();
        }
        AssertNothingLeft(engine.Directory, engine.CgroupParent, pid, engine.Directory);
    }
}
