using Moat.Tests.Engines.Infrastructure;

namespace Moat.Tests.Engines;

/// <summary>podman (Debian's podman and conmon) driving Moat through containers.conf's runtime, on a local image.</summary>
public sealed class PodmanTests(PodmanEngine engine) : IClassFixture<PodmanEngine>
{
    const string Image = BusyboxImage.Reference;

    /// <summary>A v1 controller file or its v2 counterpart, whichever the host mounts in the container.</summary>
    const string CgroupLimits =
        "m=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max); " +
        "p=$(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max); " +
        "c=$(echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)); " +
        "echo \"$m $p $c\"";

    static string Name() => $"moat-{Guid.NewGuid():N}"[..20];

    [Fact]
    public void RunRemovesTheContainerAndGivesItsOutputAndExitStatus()
    {
        var name = Name();
        var result = engine.Podman("run", "--rm", "--name", name, Image, "sh", "-c", "echo hello from moat; exit 3");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("hello from moat\n", result.Stdout);
        Assert.DoesNotContain(name, engine.Podman("ps", "--all", "--format", "{{.Names}}").Ok().Stdout);
    }

    [Fact]
    public void DetachedContainerExecLogsPauseUnpauseKillAndRemove()
    {
        var name = Name();
        engine.Podman("run", "-d", "--name", name, Image, "sh", "-c", "echo started; exec sleep 1000").Ok();

        Assert.Contains(name, engine.Podman("ps", "--format", "{{.Names}} {{.Status}}").Ok().Stdout);
        Assert.Equal("running", engine.Podman("inspect", "--format", "{{.State.Status}}", name).Ok().Stdout.Trim());

        var exec = engine.Podman("exec", name, "sh", "-c", "echo exec $(cat /proc/1/comm); exit 5");
        Assert.Equal(5, exec.ExitCode);
        Assert.Equal("exec sleep\n", exec.Stdout);

        Assert.True(Host.WaitUntil(() => engine.Podman("logs", name).Stdout.Contains("started"), TimeSpan.FromSeconds(30)),
            "podman logs never showed the container's output: " + engine.Podman("logs", name));

        engine.Podman("pause", name).Ok();
        Assert.Equal("paused", engine.Podman("inspect", "--format", "{{.State.Status}}", name).Ok().Stdout.Trim());
        Assert.Contains($"{name} Paused", engine.Podman("ps", "--all", "--format", "{{.Names}} {{.Status}}").Ok().Stdout);
        engine.Podman("unpause", name).Ok();
        Assert.Equal("running", engine.Podman("inspect", "--format", "{{.State.Status}}", name).Ok().Stdout.Trim());
        engine.Podman("exec", name, "true").Ok();

        engine.Podman("kill", name).Ok();
        Assert.True(Host.WaitUntil(() => engine.Podman("inspect", "--format", "{{.State.Status}}", name).Stdout.Trim() == "exited", TimeSpan.FromSeconds(30)));
        Assert.Equal("137", engine.Podman("inspect", "--format", "{{.State.ExitCode}}", name).Ok().Stdout.Trim());

        engine.Podman("rm", name).Ok();
        Assert.DoesNotContain(name, engine.Podman("ps", "--all", "--format", "{{.Names}}").Ok().Stdout);
    }

    [Fact]
    public void StopDeliversSigtermAndKeepsTheContainersExitStatus()
    {
        var name = Name();
        engine.Podman("run", "-d", "--name", name, Image, "sh", "-c", "trap 'exit 3' TERM; echo ready; while true; do sleep 0.1; done").Ok();
        Assert.True(Host.WaitUntil(() => engine.Podman("logs", name).Stdout.Contains("ready"), TimeSpan.FromSeconds(30)));

        engine.Podman("stop", "--time", "30", name).Ok();

        Assert.Equal("exited 3", engine.Podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name).Ok().Stdout.Trim());
        engine.Podman("rm", name).Ok();
    }

    [Fact]
    public void MemoryPidsAndCpuLimitsReachTheContainersCgroup()
    {
        var result = engine.Podman("run", "--rm", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5", Image, "sh", "-c", CgroupLimits).Ok();

        Assert.Equal("67108864 50 50000 100000", result.Stdout.Trim());
    }

    [Fact]
    public void CapDropAndCapAddShapeTheCapabilitySets()
    {
        var only = engine.Podman("run", "--rm", "--cap-drop", "all", "--cap-add", "NET_RAW", Image, "grep", "-E", "^Cap(Eff|Prm|Bnd)", "/proc/self/status").Ok();
        Assert.Equal("CapPrm:\t0000000000002000\nCapEff:\t0000000000002000\nCapBnd:\t0000000000002000\n", only.Stdout);

        // CHOWN (bit 0) is in podman's default set; dropping it leaves the rest.
        var defaults = Convert.ToUInt64(CapEff(engine.Podman("run", "--rm", Image, "cat", "/proc/self/status").Ok().Stdout), 16);
        var dropped = Convert.ToUInt64(CapEff(engine.Podman("run", "--rm", "--cap-drop", "CHOWN", Image, "cat", "/proc/self/status").Ok().Stdout), 16);
        Assert.Equal(1UL, defaults & 1);
        Assert.Equal(defaults & ~1UL, dropped);
    }

    static string CapEff(string status) =>
        status.Split('\n').Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal))["CapEff:".Length..].Trim();

    [Fact]
    public void SeccompProfileFromSecurityOptIsEnforced()
    {
        var profile = Path.Combine(engine.Directory, "deny-mkdir.json");
        File.WriteAllText(profile, """
            {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
            """);

        var result = engine.Podman("run", "--rm", "--security-opt", $"seccomp={profile}", Image,
            "sh", "-c", "grep '^Seccomp:' /proc/self/status; mkdir /tmp/denied 2>&1; echo mkdir=$?");

        Assert.Contains("Seccomp:\t2", result.Stdout);
        Assert.Contains("Operation not permitted", result.Stdout);
        Assert.Contains("mkdir=1", result.Stdout);
    }

    [Fact]
    public void NoNewPrivilegesIsSet()
    {
        var with = engine.Podman("run", "--rm", "--security-opt", "no-new-privileges", Image, "grep", "^NoNewPrivs:", "/proc/self/status").Ok();
        var without = engine.Podman("run", "--rm", Image, "grep", "^NoNewPrivs:", "/proc/self/status").Ok();

        Assert.Equal("NoNewPrivs:\t1\n", with.Stdout);
        Assert.Equal("NoNewPrivs:\t0\n", without.Stdout);
    }

    [Fact]
    public void ReadOnlyRootKeepsWritableTmpfsWithTheImagesContent()
    {
        var result = engine.Podman("run", "--rm", "--read-only", Image, "sh", "-c",
            "touch /written 2>&1; echo root=$?; touch /tmp/t /run/t /var/tmp/t && echo tmpfs-writable; cat /tmp/from-image").Ok();

        Assert.Contains("Read-only file system", result.Stdout);
        Assert.Contains("root=1", result.Stdout);
        Assert.Contains("tmpfs-writable", result.Stdout);
        Assert.Contains("seed", result.Stdout); // tmpcopyup brought the image's /tmp into the tmpfs
    }

    [Fact]
    public void UserRunsTheProcessAsThatUser()
    {
        var byId = engine.Podman("run", "--rm", "--user", "65534:65534", Image, "id").Ok();
        var byName = engine.Podman("run", "--rm", "--user", "nobody", Image, "sh", "-c", "id -u; id -g").Ok();

        Assert.StartsWith("uid=65534(nobody) gid=65534(nogroup)", byId.Stdout);
        Assert.Equal("65534\n65534\n", byName.Stdout);
    }

    [Fact]
    public void InteractiveTerminalRunsAShellOnAPty()
    {
        var result = engine.PodmanOnTerminal("tty\necho $((6*7))\nexit 7\n", "run", "-it", "--rm", Image, "sh");

        Assert.Equal(7, result.ExitCode);
        Assert.Contains("/dev/pts/0", result.Stdout);
        Assert.Contains("42", result.Stdout);
    }

    [Fact]
    public void ExecWithATerminalInARunningContainer()
    {
        var name = Name();
        engine.Podman("run", "-d", "--name", name, Image, "sleep", "1000").Ok();

        var result = engine.PodmanOnTerminal("", "exec", "-it", name, "sh", "-c", "tty; exit 4");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("/dev/pts/", result.Stdout);
        engine.Podman("rm", "--force", "--time", "0", name).Ok();
    }

    [Fact]
    public void InteractiveStdinReachesTheContainer()
    {
        var result = engine.PodmanWithInput("line one\nline two\n", "run", "--rm", "-i", Image, "sh", "-c", "wc -l; exit 2");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("2", result.Stdout.Trim());
    }

    [Fact]
    public void MissingOrNonExecutableProgramGivesStatus127Or126()
    {
        var missing = engine.Podman("run", "--rm", Image, "/no/such/program");
        var notExecutable = engine.Podman("run", "--rm", Image, "/etc/passwd");

        Assert.Equal(127, missing.ExitCode);
        Assert.Contains("/no/such/program", missing.Stderr);
        Assert.Equal(126, notExecutable.ExitCode);
    }
}
