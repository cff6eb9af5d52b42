using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>creating → created → running → stopped, as runtime-spec defines, and what each state refuses.</summary>
public sealed class LifecycleTests
{
    static string[] CgroupDirectories(string id) =>
        Directory.GetDirectories("/sys/fs/cgroup").Select(h => Path.Combine(h, "moat", id)).ToArray();

    [Fact]
    public void CreateStartKillDeleteWalkThroughTheStates()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId();
        var pidFile = Path.Combine(bundle.Directory, "container.pid");
        bundle.Create(id, "--pid-file", pidFile).Ok();

        var state = TestBundle.State(id);
        Assert.Equal("created", state.GetProperty("status").GetString());
        var pid = state.GetProperty("pid").GetInt32();
        Assert.Equal(pid.ToString(), File.ReadAllText(pidFile));
        Assert.True(Wait.ProcessExists(pid));
        Assert.Equal(bundle.Directory, state.GetProperty("bundle").GetString());
        Assert.Contains(CgroupDirectories(id), Directory.Exists);
        // The user's process has not run yet: the init waits for start.
        Assert.DoesNotContain("sleep", File.ReadAllText($"/proc/{pid}/cmdline"));

        MoatCli.Run("start", id).Ok();
        Assert.Equal("running", TestBundle.Status(id));
        // start returns once the init is released, before its execve (runc's does too, without poststart hooks).
        Wait.Until(() => !File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("moat\0", StringComparison.Ordinal), "the init to exec the user's program");
        Assert.StartsWith("sleep", File.ReadAllText($"/proc/{pid}/cmdline"));

        var again = MoatCli.Run("start", id);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("already running", again.Stderr);

        var refused = MoatCli.Run("delete", id);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("not stopped", refused.Stderr);

        MoatCli.Run("kill", id, "KILL").Ok();
        Wait.Until(() => TestBundle.Status(id) == "stopped", "the container to stop");
        Assert.Equal(0, TestBundle.State(id).TryGetProperty("pid", out var p) ? p.GetInt32() : 0);

        var startStopped = MoatCli.Run("start", id);
        Assert.Contains("stopped", startStopped.Stderr);

        MoatCli.Run("delete", id).Ok();
        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, id)));
        Assert.DoesNotContain(CgroupDirectories(id), Directory.Exists);
        var gone = MoatCli.Run("state", id);
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains("does not exist", gone.Stderr);
    }

    [Fact]
    public void DeletingACreatedContainerKillsItsInit()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId();
        bundle.Create(id).Ok();
        var pid = TestBundle.State(id).GetProperty("pid").GetInt32();
        MoatCli.Run("delete", id).Ok();
        Wait.Until(() => !Wait.ProcessExists(pid), "the init to be gone");
        Assert.DoesNotContain(CgroupDirectories(id), Directory.Exists);
    }

    [Fact]
    public void OneDeleteTakesSeveralIds()
    {
        // The ids are converted by moat's own parser, not the command-line library's reflection.
        using var bundle = new TestBundle("sleep", "1000");
        var first = bundle.NewId();
        var second = bundle.NewId();
        bundle.Create(first).Ok();
        bundle.Create(second).Ok();

        MoatCli.Run("delete", "--force", first, second).Ok();

        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, first)));
        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, second)));
        Assert.Contains("does not exist", MoatCli.Run("state", second).Stderr);
    }

    [Fact]
    public void ForceDeleteRemovesARunningContainerAndAllItsProcesses()
    {
        using var bundle = new TestBundle("sh", "-c", "sleep 1000 & sleep 1000 & wait");
        var id = bundle.NewId();
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        var pids = Directory.GetFiles($"/sys/fs/cgroup/pids/moat/{id}", "cgroup.procs");
        Wait.Until(() => File.ReadAllLines(pids[0]).Length == 3, "three processes in the cgroup");
        var all = File.ReadAllLines(pids[0]).Select(int.Parse).ToArray();
        MoatCli.Run("delete", "--force", id).Ok();
        Assert.All(all, pid => Assert.False(Wait.ProcessExists(pid)));
        Assert.DoesNotContain(CgroupDirectories(id), Directory.Exists);
    }

    [Fact]
    public void KillAllSignalsEveryProcessOfTheContainer()
    {
        using var bundle = new TestBundle("sh", "-c", "trap '' TERM; sleep 1000 & sleep 1000 & wait");
        var id = bundle.NewId();
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        var procs = $"/sys/fs/cgroup/pids/moat/{id}/cgroup.procs";
        Wait.Until(() => File.ReadAllLines(procs).Length == 3, "three processes in the cgroup");
        MoatCli.Run("kill", "--all", id, "9").Ok();
        Wait.Until(() => TestBundle.Status(id) == "stopped", "the container to stop");
        Wait.Until(() => File.ReadAllLines(procs).Length == 0, "the cgroup to empty");
    }

    [Fact]
    public void SignalsAreAcceptedByNameAndNumber()
    {
        using var bundle = new TestBundle("sh", "-c", "trap 'echo got-usr1 > /tmp/usr1' USR1; trap 'exit 3' TERM; while true; do sleep 0.05; done");
        bundle.Spec.Root!.Readonly = false;
        var id = bundle.NewId();
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        // start returns once the init has its go-ahead (as runc's does), before the shell has set
        // its traps: a sleep of the loop in the cgroup shows that it has.
        var procs = $"/sys/fs/cgroup/pids/moat/{id}/cgroup.procs";
        Wait.Until(() => File.ReadAllLines(procs).Length >= 2, "the shell's loop to run");
        MoatCli.Run("kill", id, "SIGUSR1").Ok();
        Wait.Until(() => File.Exists(Path.Combine(bundle.Rootfs, "tmp", "usr1")), "the trap to run");
        var bad = MoatCli.Run("kill", id, "SIGNOPE");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("unknown signal", bad.Stderr);
        MoatCli.Run("kill", id, "15").Ok();
        Wait.Until(() => TestBundle.Status(id) == "stopped", "SIGTERM to stop the container");
    }

    [Fact]
    public void ListShowsContainersAsTableAndJson()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId();
        bundle.Create(id).Ok();
        var table = MoatCli.Run("list").Ok().Stdout;
        Assert.StartsWith("ID ", table);
        Assert.Contains(id, table);
        var json = System.Text.Json.JsonDocument.Parse(MoatCli.Run("list", "--format", "json").Ok().Stdout).RootElement;
        var mine = json.EnumerateArray().Single(e => e.GetProperty("id").GetString() == id);
        Assert.Equal("created", mine.GetProperty("status").GetString());
        Assert.Contains(id, MoatCli.Run("list", "-q").Ok().Stdout.Split('\n'));
    }

    [Fact]
    public void RunDetachedLeavesARunningContainer()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId();
        bundle.Write();
        MoatCli.Run("run", "--detach", "--bundle", bundle.Directory, id).Ok();
        Assert.Equal("running", TestBundle.Status(id));
        MoatCli.Run("delete", "-f", id).Ok();
    }

    [Theory]
    [InlineData("checkpoint")]
    [InlineData("restore")]
    public void CheckpointAndRestoreSayWhatIsMissing(string verb)
    {
        var result = MoatCli.Run(verb, "--image-path", "/tmp/nowhere", "some-id");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{verb} is not supported by moat", result.Stderr);
        Assert.Contains("CRIU", result.Stderr);
    }

    [Fact]
    public void SocketActivationPassesListenFdsToPidOne()
    {
        using var bundle = new TestBundle("sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; ls /proc/self/fd | tr '\\n' ' '");
        bundle.Write();
        var id = bundle.NewId();
        var result = MoatCli.Exec("/bin/sh", ["-c", $"exec 3</dev/null 4</dev/null; LISTEN_FDS=2 exec '{MoatCli.Binary}' --root '{MoatCli.StateRoot}' run --bundle '{bundle.Directory}' {id}"]).Ok();
        Assert.Equal("2 1\n0 1 2 3 4 5 ", result.Stdout);
    }

    [Fact]
    public void ForegroundRunRemovesTheContainerWhenItExits()
    {
        using var bundle = new TestBundle("true");
        bundle.Write();
        var id = bundle.NewId();
        MoatCli.Run("run", "--bundle", bundle.Directory, id).Ok();
        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, id)));
        Assert.DoesNotContain(CgroupDirectories(id), Directory.Exists);
    }
}
