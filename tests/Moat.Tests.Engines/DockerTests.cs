using Moat.Tests.Engines.Infrastructure;

namespace Moat.Tests.Engines;

/// <summary>dockerd (Debian's docker.io) with Moat added as a runtime, used with `docker run --runtime moat`.</summary>
public sealed class DockerTests(DockerEngine engine) : IClassFixture<DockerEngine>
{
    const string Image = BusyboxImage.Reference;

    static string Name() => $"moat-{Guid.NewGuid():N}"[..20];

    string State(string name) =>
        engine.Docker("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}} {{.HostConfig.Runtime}}", name).Ok().Stdout.Trim();

    [Fact]
    public void RunRemovesTheContainerAndGivesItsOutputAndExitStatus()
    {
        var name = Name();

        var result = engine.Docker("run", "--rm", "--runtime", "moat", "--name", name, Image, "sh", "-c", "echo hello from moat; exit 3");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("hello from moat\n", result.Stdout);
        Assert.DoesNotContain(name, engine.Docker("ps", "--all", "--format", "{{.Names}}").Ok().Stdout);
    }

    [Fact]
    public void DetachedContainerExecPauseStopAndRemove()
    {
        var name = Name();
        engine.Docker("run", "-d", "--runtime", "moat", "--name", name, Image,
            "sh", "-c", "trap 'exit 3' TERM; echo ready; while true; do sleep 0.1; done").Ok();
        Assert.Equal("running 0 moat", State(name));
        Assert.True(Host.WaitUntil(() => engine.Docker("logs", name).Stdout.Contains("ready"), TimeSpan.FromSeconds(30)));

        var exec = engine.Docker("exec", name, "sh", "-c", "echo exec $(cat /proc/1/comm); exit 5");
        Assert.Equal(5, exec.ExitCode);
        Assert.Equal("exec sh\n", exec.Stdout);

        engine.Docker("pause", name).Ok();
        Assert.Equal("paused 0 moat", State(name));
        engine.Docker("unpause", name).Ok();
        Assert.Equal("running 0 moat", State(name));

        engine.Docker("stop", "--time", "30", name).Ok();
        Assert.Equal("exited 3 moat", State(name));

        engine.Docker("rm", name).Ok();
        Assert.DoesNotContain(name, engine.Docker("ps", "--all", "--format", "{{.Names}}").Ok().Stdout);
    }

    [Fact]
    public void KillEndsTheContainerWithTheSignalsStatus()
    {
        var name = Name();
        engine.Docker("run", "-d", "--runtime", "moat", "--name", name, Image, "sleep", "1000").Ok();

        engine.Docker("kill", name).Ok();

        Assert.True(Host.WaitUntil(() => State(name).StartsWith("exited", StringComparison.Ordinal), TimeSpan.FromSeconds(30)), State(name));
        Assert.Equal("exited 137 moat", State(name));
        engine.Docker("rm", name).Ok();
    }

    [Fact]
    public void ResourceFlagsReachTheContainersCgroup()
    {
        var script =
            "m=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max); " +
            "p=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max); " +
            "c=$(echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)); " +
            "echo \"$m $p $c\"";

        var result = engine.Docker("run", "--rm", "--runtime", "moat", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5", Image, "sh", "-c", script).Ok();

        Assert.Equal("67108864 50 50000 100000", result.Stdout.Trim());
    }

    [Fact]
    public void SecurityFlagsReadOnlyUserCapabilitiesAndNoNewPrivileges()
    {
        var result = engine.Docker("run", "--rm", "--runtime", "moat", "--read-only", "--user", "65534:65534",
            "--cap-drop", "ALL", "--cap-add", "NET_RAW", "--security-opt", "no-new-privileges", Image,
            "sh", "-c", "id -u; touch /x 2>&1; grep -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/self/status").Ok();

        Assert.Equal("65534\ntouch: /x: Read-only file system\nCapBnd:\t0000000000002000\nNoNewPrivs:\t1\nSeccomp:\t2\n", result.Stdout);
    }

    /// <summary>docker run -t: the shim gives Moat a console socket and reads create's output to its end before start.</summary>
    [Fact]
    public void RunWithATerminal()
    {
        var result = engine.DockerOnTerminal("", "run", "--rm", "-t", "--runtime", "moat", Image, "sh", "-c", "tty; exit 6");

        Assert.Equal(6, result.ExitCode);
        Assert.Contains("/dev/pts/0", result.Stdout);
    }

    [Fact]
    public void InteractiveStdinReachesTheContainer()
    {
        var result = engine.DockerWithInput("line one\nline two\n", "run", "--rm", "-i", "--runtime", "moat", Image, "sh", "-c", "wc -l; exit 2");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("2", result.Stdout.Trim());
    }

    [Fact]
    public void TopUpdateAndExecWithATerminal()
    {
        var name = Name();
        engine.Docker("run", "-d", "--runtime", "moat", "--name", name, "--memory", "64m", Image, "sleep", "1000").Ok();

        // docker top asks the shim, which runs `moat ps --format json`.
        Assert.Contains("sleep 1000", engine.Docker("top", name).Ok().Stdout);

        // docker update hands the new limits to `moat update --resources`.
        engine.Docker("update", "--memory", "96m", "--memory-swap", "192m", "--pids-limit", "40", name).Ok();
        var limits = engine.Docker("exec", name, "sh", "-c",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; " +
            "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max").Ok().Stdout;
        Assert.Equal("100663296\n40\n", limits);

        var exec = engine.DockerOnTerminal("", "exec", "-t", name, "sh", "-c", "tty; exit 4");
        Assert.Equal(4, exec.ExitCode);
        Assert.Contains("/dev/pts/", exec.Stdout);

        engine.Docker("rm", "--force", name).Ok();
    }

    /// <summary>dockerd reads Moat's error from the shim's log.json (--log-format json) and maps "not found" to 127, "permission denied" to 126.</summary>
    [Fact]
    public void MissingOrNonExecutableProgramGivesStatus127Or126()
    {
        var result = engine.Docker("run", "--rm", "--runtime", "moat", Image, "/no/such/program");

        Assert.Equal(127, result.ExitCode);
        Assert.Contains("/no/such/program", result.Stderr);
        Assert.Equal(126, engine.Docker("run", "--rm", "--runtime", "moat", Image, "/etc/passwd").ExitCode);
    }
}
