using Moat.Tests.Engines.Infrastructure;

namespace Moat.Tests.Engines;

/// <summary>containerd (Debian's containerd) with its runc v2 shim running Moat, driven by ctr.</summary>
public sealed class ContainerdTests(ContainerdEngine engine) : IClassFixture<ContainerdEngine>
{
    static string Id() => $"moat-{Guid.NewGuid():N}"[..20];

    string TaskStatus(string id) =>
        engine.Ctr("tasks", "ls").Ok().Stdout.Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(f => f.Length >= 3 && f[0] == id)?[2] ?? "absent";

    [Fact]
    public void RunRemovesTheContainerAndGivesItsOutputAndExitStatus()
    {
        var id = Id();

        var result = engine.Run(["--rm"], id, "sh", "-c", "echo hello from moat; exit 3");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("hello from moat\n", result.Stdout);
        Assert.DoesNotContain(id, engine.Ctr("containers", "ls", "--quiet").Ok().Stdout);
    }

    [Fact]
    public void DetachedTaskExecPauseMetricsKillAndDelete()
    {
        var id = Id();
        engine.Run(["--detach", "--memory-limit", "67108864"], id, "sleep", "1000").Ok();
        Assert.Equal("RUNNING", TaskStatus(id));

        var exec = engine.Ctr("tasks", "exec", "--exec-id", "e1", "--fifo-dir", Path.Combine(engine.Directory, "fifo"), id,
            "sh", "-c", "echo exec $(cat /proc/1/comm); exit 5");
        Assert.Equal(5, exec.ExitCode);
        Assert.Equal("exec sleep\n", exec.Stdout);

        engine.Ctr("tasks", "pause", id).Ok();
        Assert.Equal("PAUSED", TaskStatus(id));
        engine.Ctr("tasks", "resume", id).Ok();
        Assert.Equal("RUNNING", TaskStatus(id));

        // The shim reads the container's cgroup (v1 names here; v2 hosts say memory.usage and memory.limit).
        var metrics = engine.Ctr("tasks", "metrics", id).Ok().Stdout;
        Assert.Matches(@"memory\.(limit_in_bytes|limit)\s+67108864", metrics);
        Assert.Matches(@"pids\.current\s+1\b", metrics);

        engine.Ctr("tasks", "kill", "--signal", "SIGKILL", id).Ok();
        Assert.True(Host.WaitUntil(() => TaskStatus(id) == "STOPPED", TimeSpan.FromSeconds(30)), $"task {id} is {TaskStatus(id)}");
        engine.Ctr("tasks", "delete", id).Ok();
        Assert.Equal("absent", TaskStatus(id));
        engine.Ctr("containers", "delete", id).Ok();
        Assert.DoesNotContain(id, engine.Ctr("containers", "ls", "--quiet").Ok().Stdout);
    }

    [Fact]
    public void CpuLimitReachesTheCgroup()
    {
        var id = Id();
        engine.Run(["--detach", "--cpus", "0.5"], id, "sleep", "1000").Ok();
        try
        {
            var pid = engine.Ctr("tasks", "ls").Ok().Stdout.Split('\n')
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).First(f => f.Length >= 2 && f[0] == id)[1];
            // Read from the host: ctr's default spec mounts no cgroup filesystem in the container.
            var cgroupLine = File.ReadAllLines($"/proc/{pid}/cgroup").First(l => l.Split(':')[1].Split(',').Contains("cpu") || l.StartsWith("0::", StringComparison.Ordinal));
            var path = cgroupLine.Split(':', 3)[2];
            Assert.Equal($"{engine.CgroupParent}/{id}", path);
            var v1 = $"/sys/fs/cgroup/cpu{path}/cpu.cfs_quota_us";
            var limit = File.Exists(v1) ? File.ReadAllText(v1).Trim() : File.ReadAllText($"/sys/fs/cgroup{path}/cpu.max").Split(' ')[0];
            Assert.Equal("50000", limit);
        }
        finally
        {
            engine.Ctr("tasks", "kill", "--signal", "SIGKILL", id);
            Host.WaitUntil(() => engine.Ctr("tasks", "delete", id).ExitCode == 0, TimeSpan.FromSeconds(30));
            engine.Ctr("containers", "delete", id);
        }
    }

    /// <summary>With --tty the shim hands Moat a console socket and reads create's output to its end before start.</summary>
    [Fact]
    public void RunWithATerminal()
    {
        var id = Id();

        var result = engine.CtrOnTerminal("", ["run", .. engine.RuntimeFlags, "--cgroup", $"{engine.CgroupParent}/{id}", "--rm", "--tty",
            BusyboxImage.Reference, id, "sh", "-c", "tty; exit 6"]);

        Assert.Equal(6, result.ExitCode);
        Assert.Contains("/dev/pts/0", result.Stdout);
    }

    [Fact]
    public void ExecWithATerminal()
    {
        var id = Id();
        engine.Run(["--detach"], id, "sleep", "1000").Ok();
        try
        {
            var result = engine.CtrOnTerminal("", "tasks", "exec", "--tty", "--exec-id", "t1", "--fifo-dir", Path.Combine(engine.Directory, "fifo"),
                id, "sh", "-c", "tty; exit 4");

            Assert.Equal(4, result.ExitCode);
            Assert.Contains("/dev/pts/", result.Stdout);
        }
        finally
        {
            engine.Ctr("tasks", "kill", "--signal", "SIGKILL", id);
            Host.WaitUntil(() => engine.Ctr("tasks", "delete", id).ExitCode == 0, TimeSpan.FromSeconds(30));
            engine.Ctr("containers", "delete", id);
        }
    }

    /// <summary>The shim passes Moat's error from its log.json (--log-format json) back through ctr.</summary>
    [Fact]
    public void MissingExecutableIsReportedWithMoatsMessage()
    {
        var id = Id();

        var result = engine.Run(["--rm"], id, "/no/such/program");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("/no/such/program", result.Stderr);
        engine.Ctr("containers", "delete", id);
    }
}
