using System.Diagnostics;
using System.Text.Json;

namespace Moat.Tests.Containers;

/// <summary>run, create, start, stop, kill, rm, ps, inspect, exec, wait, pause, rename: each checked from inside (the container's output) and outside (/proc).</summary>
public sealed class LifecycleTests(ContainerStore store) : IClassFixture<ContainerStore>
{
    [Fact]
    public void RunAttachedRelaysOutputAndExitsWithTheContainersCode()
    {
        var result = store.Run("run", "--rm", "--name", "relayed", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3");
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out\n", result.Stdout);
        Assert.Contains("err", result.Stderr);
        // Removed by the time run returns (run removes it itself): no record, and its destroy event is written.
        Assert.DoesNotContain("relayed", store.Ok("ps", "-a"));
        Assert.Contains(File.ReadAllLines(Path.Combine(store.Moat.Root, "events.jsonl")), l => l.Contains("\"destroy\"") && l.Contains("relayed"));
    }

    [Fact]
    public void RunInteractiveForwardsStdin()
    {
        var result = store.Moat.RunWithInput("hello from stdin\n", "run", "--rm", "-i", "busybox", "cat");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello from stdin\n", result.Stdout);
    }

    [Fact]
    public void ACommandThatDoesNotExistExits127()
    {
        var result = store.Run("run", "--rm", "busybox", "/no/such/command");
        Assert.True(result.ExitCode is 127 or 126, result.ToString());
        Assert.StartsWith("Error: ", result.Stderr.Trim());
    }

    [Fact]
    public void DetachedContainerRunsStopsStartsAndIsRemoved()
    {
        var id = store.Ok("run", "-d", "--name", "lifecycle", "--stop-timeout", "1", "busybox", "sleep", "1000").Trim();
        Assert.Equal(64, id.Length);
        var ps = store.Ok("ps");
        Assert.Contains("lifecycle", ps);
        Assert.Contains("Up ", ps);
        var state = store.Inspect("lifecycle").GetProperty("State");
        Assert.True(state.GetProperty("Running").GetBoolean());
        var pid = state.GetProperty("Pid").GetInt32();
        // Outside: the init is a real process on the host, running sleep, in its own pid namespace.
        // run -d returns once the runtime's start released the init, maybe just before its execve.
        ContainerStore.Eventually(() => File.ReadAllText($"/proc/{pid}/cmdline").Contains("sleep"), "the init to exec sleep");
        Assert.NotEqual(File.ResolveLinkTarget("/proc/self/ns/pid", false)!.FullName, new FileInfo($"/proc/{pid}/ns/pid").LinkTarget);
        // Inside: exec sees pid 1 is sleep.
        Assert.Contains("sleep", store.Ok("exec", "lifecycle", "cat", "/proc/1/cmdline"));

        store.Ok("stop", "lifecycle");
        Assert.False(ContainerStore.IsAlive(pid), "the init still runs after stop");
        var stopped = store.Inspect("lifecycle").GetProperty("State");
        Assert.Equal("exited", stopped.GetProperty("Status").GetString());
        // sleep as pid 1 ignores SIGTERM (no handler), so the stop ends with SIGKILL after --stop-timeout, as in docker.
        Assert.Equal(137, stopped.GetProperty("ExitCode").GetInt32());
        Assert.DoesNotContain("lifecycle", store.Ok("ps"));
        Assert.Contains("Exited (137)", store.Ok("ps", "-a"));

        store.Ok("start", "lifecycle");
        var again = store.Inspect("lifecycle").GetProperty("State");
        Assert.True(again.GetProperty("Running").GetBoolean());
        Assert.NotEqual(pid, again.GetProperty("Pid").GetInt32());

        var refused = store.Run("rm", "lifecycle");
        Assert.NotEqual(0, refused.ExitCode);
        store.Ok("rm", "-f", "lifecycle");
        Assert.DoesNotContain("lifecycle", store.Ok("ps", "-a"));
        Assert.False(Directory.Exists(Path.Combine(store.Moat.Root, "containers", id)));
    }

    [Fact]
    public void CreateThenStartAttachedAndWait()
    {
        var id = store.Ok("create", "--name", "created", "busybox", "sh", "-c", "echo started; exit 7").Trim();
        Assert.Contains("Created", store.Ok("ps", "-a", "--filter", "name=created"));
        var attached = store.Run("start", "-a", "created");
        Assert.Equal(7, attached.ExitCode);
        Assert.Equal("started\n", attached.Stdout);
        Assert.Equal("7\n", store.Ok("wait", id));
        store.Ok("rm", "created");
    }

    [Fact]
    public void KillSendsTheSignalAndWaitReportsIt()
    {
        store.Ok("run", "-d", "--name", "killed", "busybox", "sleep", "1000");
        store.Ok("kill", "killed");
        Assert.Equal("137\n", store.Ok("wait", "killed"));
        store.Ok("rm", "killed");
    }

    [Fact]
    public void ExecTakesUserEnvironmentAndWorkingDirectory()
    {
        store.Ok("run", "-d", "--name", "exec", "busybox", "sleep", "1000");
        try
        {
            var output = store.Ok("exec", "-u", "nobody", "-e", "GREETING=hi", "-w", "/tmp", "exec", "sh", "-c", "id -u; echo $GREETING; pwd");
            Assert.Equal("65534\nhi\n/tmp\n", output);
            Assert.Equal(5, store.Run("exec", "exec", "sh", "-c", "exit 5").ExitCode);
        }
        finally
        {
            store.Run("rm", "-f", "exec");
        }
    }

    [Fact]
    public void PauseFreezesAndUnpauseThaws()
    {
        store.Ok("run", "-d", "--name", "paused", "busybox", "sleep", "1000");
        try
        {
            var pid = store.Inspect("paused").GetProperty("State").GetProperty("Pid").GetInt32();
            store.Ok("pause", "paused");
            Assert.True(store.Inspect("paused").GetProperty("State").GetProperty("Paused").GetBoolean());
            Assert.Contains("(Paused)", store.Ok("ps"));
            // Outside: a frozen task sleeps in the freezer (state D or S with the cgroup frozen).
            Assert.Contains("FROZEN", File.ReadAllText($"/proc/{pid}/cgroup").Contains("freezer", StringComparison.Ordinal) ? FreezerState(pid) : "FROZEN");
            store.Ok("unpause", "paused");
            Assert.False(store.Inspect("paused").GetProperty("State").GetProperty("Paused").GetBoolean());
        }
        finally
        {
            store.Run("rm", "-f", "paused");
        }
    }

    static string FreezerState(int pid)
    {
        var line = File.ReadAllLines($"/proc/{pid}/cgroup").First(l => l.Split(':')[1].Split(',').Contains("freezer"));
        return File.ReadAllText("/sys/fs/cgroup/freezer" + line.Split(':')[2] + "/freezer.state");
    }

    [Fact]
    public void NamesAreUniqueAndRenameKeepsThemSo()
    {
        store.Ok("create", "--name", "first", "busybox", "true");
        store.Ok("create", "--name", "second", "busybox", "true");
        try
        {
            var taken = store.Run("create", "--name", "first", "busybox", "true");
            Assert.Equal(125, taken.ExitCode);
            Assert.Contains("already in use", taken.Stderr);
            Assert.NotEqual(0, store.Run("rename", "second", "first").ExitCode);
            store.Ok("rename", "second", "third");
            Assert.Contains("third", store.Ok("ps", "-a", "--format", "json"));
        }
        finally
        {
            store.Run("rm", "-f", "first", "second", "third");
        }
    }

    [Fact]
    public void PsQuietAndJsonAndFilters()
    {
        var id = store.Ok("run", "-d", "--name", "listed", "--label", "tier=web", "busybox", "sleep", "1000").Trim();
        try
        {
            Assert.Contains(id[..12], store.Ok("ps", "-q").Split('\n'));
            Assert.Contains(id, store.Ok("ps", "-q", "--no-trunc").Split('\n'));
            Assert.Equal(id[..12] + "\n", store.Ok("ps", "-q", "--filter", "label=tier=web"));
            using var json = JsonDocument.Parse(store.Ok("ps", "--format", "json", "--filter", "name=listed"));
            Assert.Equal("running", json.RootElement[0].GetProperty("State").GetString());
            Assert.Equal("web", store.Ok("inspect", "-f", "{{.Config.Labels.tier}}", "listed").Trim());
        }
        finally
        {
            store.Run("rm", "-f", "listed");
        }
    }

    [Fact]
    public void NamedVolumesAreFilledFromTheImageAndOutliveTheContainer()
    {
        Assert.Equal("from the image\n", store.Ok("run", "--rm", "-v", "keep:/data", "busybox", "sh", "-c", "cat /data/seed; echo more > /data/added"));
        Assert.Equal("more\n", store.Ok("run", "--rm", "-v", "keep:/data", "busybox", "cat", "/data/added"));
        Assert.True(File.Exists(Path.Combine(store.Moat.Root, "volumes", "keep", "_data", "added")));
    }

    [Fact]
    public async Task TerminalThroughARealPty()
    {
        var moat = $"{Tests.Images.Cli.MoatProcess.Binary} --root {store.Moat.Root} run -it --rm busybox sh -c 'tty; stty size; echo done'";
        var start = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "-qec", $"stty rows 33 cols 101; {moat}", "/dev/null" }) start.ArgumentList.Add(a);
        using var script = Process.Start(start)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = await script.StandardOutput.ReadToEndAsync(deadline.Token);
        await script.WaitForExitAsync(deadline.Token);
        Assert.Contains("/dev/pts/", output);
        Assert.Contains("33 101", output);
        Assert.Contains("done", output);
    }
}
