using System.Diagnostics;

namespace Moat.Tests.Containers;

/// <summary>What the monitor does for a detached container: restart policies and health checks, seen through ps and inspect.</summary>
public sealed class MonitorTests(ContainerStore store) : IClassFixture<ContainerStore>
{
    [Fact]
    public void OnFailureRestartsACrashingContainerUpToItsLimit()
    {
        store.Ok("run", "-d", "--name", "crashing", "--restart", "on-failure:2", "busybox", "sh", "-c", "sleep 0.2; exit 1");
        try
        {
            ContainerStore.Eventually(() =>
            {
                var state = store.Inspect("crashing");
                return state.GetProperty("RestartCount").GetInt32() == 2 && state.GetProperty("State").GetProperty("Status").GetString() == "exited";
            }, "the container restarted twice and then stayed exited");
            Assert.Equal(1, store.Inspect("crashing").GetProperty("State").GetProperty("ExitCode").GetInt32());
        }
        finally
        {
            store.Run("rm", "-f", "crashing");
        }
    }

    [Fact]
    public void AlwaysBringsItBackButStopKeepsItDown()
    {
        store.Ok("run", "-d", "--name", "always", "--restart", "always", "--stop-timeout", "1", "busybox", "sh", "-c", "sleep 0.3; exit 0");
        try
        {
            ContainerStore.Eventually(() => store.Inspect("always").GetProperty("RestartCount").GetInt32() >= 1, "a restart");
            store.Ok("stop", "always");
            var count = store.Inspect("always").GetProperty("RestartCount").GetInt32();
            Thread.Sleep(1000);
            var after = store.Inspect("always");
            Assert.Equal("exited", after.GetProperty("State").GetProperty("Status").GetString());
            Assert.Equal(count, after.GetProperty("RestartCount").GetInt32());
        }
        finally
        {
            store.Run("rm", "-f", "always");
        }
    }

    [Fact]
    public void AFailingHealthCheckMakesTheContainerUnhealthy()
    {
        store.Ok("run", "-d", "--name", "sick", "--health-cmd", "test -e /tmp/ok", "--health-interval", "1s", "--health-retries", "1", "busybox", "sh", "-c", "touch /tmp/ok; sleep 1000");
        try
        {
            ContainerStore.Eventually(() => store.Inspect("sick").GetProperty("State").GetProperty("Health").GetProperty("Status").GetString() == "healthy", "healthy first");
            Assert.Contains("(healthy)", store.Ok("ps"));
            store.Ok("exec", "sick", "rm", "/tmp/ok");
            ContainerStore.Eventually(() => store.Inspect("sick").GetProperty("State").GetProperty("Health").GetProperty("Status").GetString() == "unhealthy", "unhealthy after the file went");
            Assert.Contains("(unhealthy)", store.Ok("ps", "--filter", "health=unhealthy"));
        }
        finally
        {
            store.Run("rm", "-f", "sick");
        }
    }
}

/// <summary>Crashes injected: a monitor killed, a `moat` killed mid-create, everything killed; ps tells the truth and rm -f / system prune clean up.</summary>
public sealed class CrashTests(ContainerStore store) : IClassFixture<ContainerStore>
{
    [Fact]
    public void AKilledMonitorIsSeenAndTheContainerStaysManageable()
    {
        store.Ok("run", "-d", "--name", "orphan", "busybox", "sleep", "1000");
        var pid = store.Inspect("orphan").GetProperty("State").GetProperty("Pid").GetInt32();
        var monitor = MonitorOf(pid);
        Process.GetProcessById(monitor).Kill();
        ContainerStore.Eventually(() => !Directory.Exists($"/proc/{monitor}") || File.ReadAllText($"/proc/{monitor}/stat").Contains(") Z "), "the monitor died");
        var state = store.Inspect("orphan").GetProperty("State");
        Assert.True(state.GetProperty("Running").GetBoolean());
        Assert.True(state.GetProperty("MonitorLost").GetBoolean());
        Assert.Contains("monitor lost", store.Ok("ps"));
        store.Ok("rm", "-f", "orphan");
        // Killed, or at most a zombie: with its monitor gone its new parent reaps it, if that parent reaps at all.
        ContainerStore.Eventually(() => !ContainerStore.IsAlive(pid), "the init gone after rm -f");
        Assert.DoesNotContain("orphan", store.Ok("ps", "-a"));
    }

    [Fact]
    public void AMonitorKilledAfterTheInitDiedLeavesAnExitedContainer()
    {
        store.Ok("run", "-d", "--name", "bothgone", "busybox", "sleep", "1000");
        var pid = store.Inspect("bothgone").GetProperty("State").GetProperty("Pid").GetInt32();
        var monitor = MonitorOf(pid);
        // Everything at once, as a power cut would: the monitor, then the init.
        Process.GetProcessById(monitor).Kill();
        Process.GetProcessById(pid).Kill();
        ContainerStore.Eventually(() => store.Inspect("bothgone").GetProperty("State").GetProperty("Status").GetString() == "exited", "exited");
        Assert.Contains("Exited", store.Ok("ps", "-a", "--filter", "name=bothgone"));
        // It can run again: start gives it a new monitor.
        store.Ok("start", "bothgone");
        Assert.True(store.Inspect("bothgone").GetProperty("State").GetProperty("Running").GetBoolean());
        store.Ok("rm", "-f", "bothgone");
    }

    [Fact]
    public void AMoatKilledMidCreateLeavesARecordThatSystemPruneCleans()
    {
        // Kill moat at several points of create; whatever each leaves, ps must list it truthfully and prune must clean it.
        for (var delay = 20; delay <= 320; delay += 100)
        {
            using var moat = store.Moat.Start("create", "--name", $"halfmade{delay}", "busybox", "true");
            Thread.Sleep(delay);
            try { moat.Kill(); } catch (InvalidOperationException) { }
            moat.WaitForExit();
        }
        ContainerStore.Eventually(() => !store.Ok("ps", "-a").Contains("creating"), "no create in progress");
        store.Ok("system", "prune", "-f");
        var left = store.Ok("ps", "-aq");
        Assert.True(left.Trim().Length == 0, "system prune left: " + store.Ok("ps", "-a"));
        var containers = Path.Combine(store.Moat.Root, "containers");
        Assert.DoesNotContain(Directory.EnumerateDirectories(containers), d => !Path.GetFileName(d).StartsWith('.'));
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(store.Moat.Root));
    }

    [Fact]
    public void ARunRmKilledWhileAttachedLeavesTheRemovalToTheMonitor()
    {
        string id;
        using (var moat = store.Moat.Start("run", "--rm", "--name", "rmorphan", "busybox", "sleep", "1000"))
        {
            ContainerStore.Eventually(() => store.Run("inspect", "-f", "{{.State.Status}}", "rmorphan").Stdout.Trim() == "running", "the container running");
            id = store.Ok("inspect", "-f", "{{.Id}}", "rmorphan").Trim();
            moat.Kill();
            moat.WaitForExit();
        }
        // The run that was to remove it is gone; once the container exits, the monitor's exit command removes it.
        store.Ok("kill", "rmorphan");
        ContainerStore.Eventually(() => !store.Ok("ps", "-a").Contains("rmorphan"), "the container removed by the monitor's exit command");
        Assert.False(Directory.Exists(Path.Combine(store.Moat.Root, "containers", id)), "its layer directory is left");
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(id));
    }

    static int MonitorOf(int initPid)
    {
        // The monitor is the init's parent (it is the init's subreaper, and the runtime that made it has exited).
        var stat = File.ReadAllText($"/proc/{initPid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var parent = int.Parse(fields[1]);
        Assert.Contains("moat-monitor", File.ReadAllText($"/proc/{parent}/cmdline"));
        return parent;
    }
}

/// <summary>Fifty containers at once.</summary>
public sealed class ParallelTests(ContainerStore store) : IClassFixture<ContainerStore>
{
    [Fact]
    public void FiftyContainersStartedInParallelAreAllListedAndRemoved()
    {
        var results = new Moat.Tests.Images.Cli.MoatResult[50];
        Parallel.For(0, 50, new ParallelOptions { MaxDegreeOfParallelism = 10 }, i =>
            results[i] = store.Run("run", "-d", "--name", $"many{i}", "busybox", "sleep", "1000"));
        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.ToString()));
        var running = store.Ok("ps", "-q").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(50, running.Length);
        store.Ok(["rm", "-f", .. running]);
        Assert.Empty(store.Ok("ps", "-aq").Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
