using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>exec: a new process in a running container, in all its namespaces and its cgroup.</summary>
public sealed class ExecTests
{
    static (TestBundle Bundle, string Id, int Pid) Running(Action<Oci.Spec>? configure = null)
    {
        var bundle = new TestBundle("sleep", "1000");
        configure?.Invoke(bundle.Spec);
        var id = bundle.NewId("exec");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        return (bundle, id, TestBundle.State(id).GetProperty("pid").GetInt32());
    }

    [Fact]
    public void ExecJoinsEveryNamespaceAndTheCgroupOfTheInit()
    {
        var (bundle, id, pid) = Running(spec => spec.Linux!.Namespaces!.Add(new Oci.LinuxNamespace { Type = "time" }));
        using var _ = bundle;
        var types = new[] { "pid", "net", "mnt", "ipc", "uts", "cgroup", "time" };
        var inside = MoatCli.Run(["exec", id, "sh", "-c", string.Join("; ", types.Select(t => $"readlink /proc/self/ns/{t}"))]).Ok().Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var init = types.Select(t => new FileInfo($"/proc/{pid}/ns/{t}").LinkTarget!).ToArray();
        Assert.Equal(init, inside);

        // Seen from the host: the exec'd process is in the container's cgroup in every hierarchy.
        var pidFile = Path.Combine(bundle.Directory, "exec.pid");
        MoatCli.Run("exec", "--detach", "--pid-file", pidFile, id, "sleep", "1000").Ok();
        var execPid = int.Parse(File.ReadAllText(pidFile));
        var cgroups = File.ReadAllLines($"/proc/{execPid}/cgroup");
        Assert.All(cgroups, line => Assert.EndsWith($"/moat/{id}", line));
        Assert.Contains(execPid.ToString(), File.ReadAllLines($"/sys/fs/cgroup/pids/moat/{id}/cgroup.procs"));
    }

    [Fact]
    public void ExecHasTheContainersCapabilitiesHostnameAndMounts()
    {
        var (bundle, id, _) = Running(spec => spec.Hostname = "exec-host");
        using var _ = bundle;
        var output = MoatCli.Run("exec", id, "sh", "-c", "hostname; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; echo $$; cut -d' ' -f5 /proc/self/mountinfo | head -1").Ok().Stdout;
        Assert.StartsWith("exec-host\n", output);
        Assert.Contains("CapEff:\t0000000020000420", output);
        Assert.Contains("CapBnd:\t0000000020000420", output);
        Assert.Contains("NoNewPrivs:\t1", output);
        Assert.EndsWith("\n/\n", output); // the container's root, not the host's mounts
    }

    [Fact]
    public void ExecReturnsTheExitStatusAndHonoursItsFlags()
    {
        var (bundle, id, _) = Running();
        using var _ = bundle;
        Assert.Equal(5, MoatCli.Run("exec", id, "sh", "-c", "exit 5").ExitCode);
        var output = MoatCli.Run("exec", "--user", "1000:1001", "--env", "GREETING=hi", "--cwd", "/tmp", "--additional-gids", "7",
            id, "sh", "-c", "id; echo $GREETING; pwd").Ok().Stdout;
        Assert.Equal("uid=1000 gid=1001 groups=7\nhi\n/tmp\n", output);
    }

    /// <summary>exec sets HOME as run does: from the container's /etc/passwd for the exec's uid, unless given.</summary>
    [Fact]
    public void ExecGetsHomeFromTheContainersPasswdUnlessGiven()
    {
        var (bundle, id, _) = Running();
        using var _ = bundle;
        File.AppendAllText(Path.Combine(bundle.Rootfs, "etc", "passwd"), "app:x:1000:1000::/home/app:/bin/sh\n");
        Assert.Equal("/root\n", MoatCli.Run("exec", id, "sh", "-c", "echo \"$HOME\"").Ok().Stdout);
        Assert.Equal("/home/app\n", MoatCli.Run("exec", "--user", "1000:1000", id, "sh", "-c", "echo \"$HOME\"").Ok().Stdout);
        Assert.Equal("/\n", MoatCli.Run("exec", "--user", "2000:2000", id, "sh", "-c", "echo \"$HOME\"").Ok().Stdout);
        Assert.Equal("/given\n", MoatCli.Run("exec", "--env", "HOME=/given", id, "sh", "-c", "echo \"$HOME\"").Ok().Stdout);
    }

    [Fact]
    public void ExecWithAProcessFileAndPidFileDetached()
    {
        var (bundle, id, _) = Running();
        using var _ = bundle;
        var processFile = Path.Combine(bundle.Directory, "process.json");
        File.WriteAllText(processFile, """
            {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo from-process-file > /dev/shm/marker; sleep 1000"],
             "env": ["PATH=/bin"], "cwd": "/"}
            """);
        var pidFile = Path.Combine(bundle.Directory, "exec.pid");
        MoatCli.Run("exec", "--detach", "--process", processFile, "--pid-file", pidFile, id).Ok();
        var pid = int.Parse(File.ReadAllText(pidFile));
        Assert.True(Wait.ProcessExists(pid));
        Wait.Until(() => MoatCli.Run("exec", id, "cat", "/dev/shm/marker").Stdout == "from-process-file\n", "the detached process to write");
    }

    [Fact]
    public void ExecWithoutAProcessFileKeepsTheContainersProcessSettings()
    {
        // oomScoreAdj was lost when the container's process was copied field by field; the rlimits
        // were not applied to an exec'd process (runtime-spec: they are the process's).
        var (bundle, id, _) = Running(spec =>
        {
            spec.Process!.OomScoreAdj = 123;
            spec.Process.User.Umask = Convert.ToUInt32("027", 8);
            spec.Process.Rlimits = [new Moat.Oci.PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 512, Hard = 1024 }];
        });
        using var _ = bundle;
        Assert.Equal("123\n0027\n512\n1024\n", MoatCli.Run("exec", id, "sh", "-c", "cat /proc/self/oom_score_adj; umask; ulimit -n; ulimit -Hn").Ok().Stdout);
    }

    [Fact]
    public void AProcessFlagBesideAProcessFileIsIgnoredWithAWarning()
    {
        var (bundle, id, _) = Running();
        using var _ = bundle;
        var processFile = Path.Combine(bundle.Directory, "process.json");
        File.WriteAllText(processFile, """{"user": {"uid": 0, "gid": 0}, "args": ["true"], "cwd": "/"}""");
        File.WriteAllText(processFile, """{"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo A=$A"], "cwd": "/"}""");
        var result = MoatCli.Run("exec", "--process", processFile, "--env", "A=1", id).Ok();
        Assert.Equal("A=\n", result.Stdout);
        Assert.Contains("--env is ignored: with --process, the process file is used as given", result.Stderr);
    }

    [Fact]
    public void ExecIntoAStoppedContainerFailsClearly()
    {
        var (bundle, id, _) = Running();
        using var _ = bundle;
        MoatCli.Run("kill", id, "KILL").Ok();
        Wait.Until(() => TestBundle.Status(id) == "stopped", "the container to stop");
        var result = MoatCli.Run("exec", id, "true");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot exec in a stopped container", result.Stderr);
    }

    [Fact]
    public void ExecOfAMissingProgramFailsClearly()
    {
        var (bundle, id, _) = Running();
        using var _ = bundle;
        var result = MoatCli.Run("exec", id, "no-such-program");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("executable file not found in $PATH", result.Stderr);
        Assert.Equal("running", TestBundle.Status(id));
    }

    [Fact]
    public void ExecIntoAUserNamespaceContainer()
    {
        var (bundle, id, pid) = Running(spec =>
        {
            spec.Linux!.Namespaces!.Add(new Oci.LinuxNamespace { Type = "user" });
            spec.Linux.UidMappings = [new Oci.LinuxIdMapping { ContainerId = 0, HostId = 400000, Size = 65536 }];
            spec.Linux.GidMappings = [new Oci.LinuxIdMapping { ContainerId = 0, HostId = 400000, Size = 65536 }];
        });
        using var _ = bundle;
        var output = MoatCli.Run("exec", id, "sh", "-c", "id -u; readlink /proc/self/ns/user").Ok().Stdout.Split('\n');
        Assert.Equal("0", output[0]);
        Assert.Equal(new FileInfo($"/proc/{pid}/ns/user").LinkTarget, output[1]);
    }
}
