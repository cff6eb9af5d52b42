using System.Text.Json;
using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>Limits that hold and the cgroup commands, checked in the kernel's own accounting (no timings).</summary>
public sealed class CgroupTests
{
    static string V1(string controller, string id, string file) => $"/sys/fs/cgroup/{controller}/moat/{id}/{file}";

    static bool HasV1(string controller) => Directory.Exists($"/sys/fs/cgroup/{controller}") && File.Exists($"/sys/fs/cgroup/{controller}/cgroup.procs");

    [Fact]
    public void PauseFreezesAndResumeThaws()
    {
        using var bundle = new TestBundle("sh", "-c", "while :; do sleep 0.05; done");
        var id = bundle.NewId("pause");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();

        MoatCli.Run("pause", id).Ok();
        Assert.Equal("paused", TestBundle.Status(id));
        if (HasV1("freezer"))
            Assert.Equal("FROZEN", File.ReadAllText(V1("freezer", id, "freezer.state")).Trim());
        var refused = MoatCli.Run("exec", id, "true");
        Assert.Contains("paused", refused.Stderr);
        Assert.Contains("already paused", MoatCli.Run("pause", id).Stderr);

        MoatCli.Run("resume", id).Ok();
        Assert.Equal("running", TestBundle.Status(id));
        if (HasV1("freezer"))
            Assert.Equal("THAWED", File.ReadAllText(V1("freezer", id, "freezer.state")).Trim());
        MoatCli.Run("exec", id, "true").Ok();
        Assert.Contains("not paused", MoatCli.Run("resume", id).Stderr);

        // A paused container can still be force-deleted: it is thawed so that SIGKILL acts.
        MoatCli.Run("pause", id).Ok();
        MoatCli.Run("delete", "--force", id).Ok();
        Assert.False(Directory.Exists(V1("pids", id, "")));
    }

    [Fact]
    public void PsListsTheContainersProcesses()
    {
        using var bundle = new TestBundle("sh", "-c", "sleep 1000 & sleep 1000 & wait");
        var id = bundle.NewId("ps");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        Wait.Until(() => JsonDocument.Parse(MoatCli.Run("ps", "--format", "json", id).Ok().Stdout).RootElement.GetArrayLength() == 3, "three processes");
        var pids = JsonDocument.Parse(MoatCli.Run("ps", "--format", "json", id).Stdout).RootElement.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var table = MoatCli.Run("ps", id).Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("PID", table[0]);
        Assert.Equal(3, table.Length - 1);
        Assert.All(pids, pid => Assert.Contains(table.Skip(1), line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] == pid.ToString()));
    }

    [Fact]
    public void PidsLimitStopsAForkBomb()
    {
        using var bundle = new TestBundle("sh", "-c", "for i in $(seq 40); do sleep 1000 & done; echo spawned; wait");
        bundle.Spec.Linux!.Resources!.Pids = new LinuxPids { Limit = 10 };
        var id = bundle.NewId("pids");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        Wait.Until(() => File.ReadAllText(V1("pids", id, "pids.events")).Contains("max ") &&
                         !File.ReadAllText(V1("pids", id, "pids.events")).Contains("max 0"), "the pids limit to refuse forks");
        Assert.Equal("10", File.ReadAllText(V1("pids", id, "pids.max")).Trim());
        Assert.True(int.Parse(File.ReadAllText(V1("pids", id, "pids.current"))) <= 10);
        // The host is unaffected: it can still start a process.
        MoatCli.Exec("/bin/true", []).Ok();
    }

    [Fact]
    public void MemoryHogIsOomKilledAtItsLimit()
    {
        using var bundle = new TestBundle("sh", "-c", "x=$(head -c 134217728 /dev/zero | tr '\\0' a); echo survived");
        bundle.Spec.Linux!.Resources!.Memory = new LinuxMemory { Limit = 32 * 1024 * 1024, Swap = 32 * 1024 * 1024 };
        var id = bundle.NewId("oom");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        Wait.Until(() => TestBundle.Status(id) == "stopped", "the hog to be killed", seconds: 60);
        Assert.Equal(32 * 1024 * 1024, long.Parse(File.ReadAllText(V1("memory", id, "memory.limit_in_bytes"))));
        // The kernel's own record: its OOM killer ran in this cgroup.
        var oomControl = File.ReadAllLines(V1("memory", id, "memory.oom_control"));
        Assert.Contains(oomControl, l => l.StartsWith("oom_kill ") && l != "oom_kill 0");
    }

    [Fact]
    public void UpdateChangesTheLimitsOfARunningContainer()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId("update");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        MoatCli.Run("update", "--memory", "64m", "--pids-limit", "20", "--cpu-quota", "50000", "--cpu-period", "100000", id).Ok();
        Assert.Equal((64L << 20).ToString(), File.ReadAllText(V1("memory", id, "memory.limit_in_bytes")).Trim());
        Assert.Equal("20", File.ReadAllText(V1("pids", id, "pids.max")).Trim());
        Assert.Equal("50000", File.ReadAllText(V1("cpu", id, "cpu.cfs_quota_us")).Trim());

        var resources = Path.Combine(bundle.Directory, "resources.json");
        File.WriteAllText(resources, """{"pids": {"limit": 7}}""");
        MoatCli.Run("update", "--resources", resources, id).Ok();
        Assert.Equal("7", File.ReadAllText(V1("pids", id, "pids.max")).Trim());

        var bad = MoatCli.Run("update", "--memory", "12x", id);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--memory \"12x\"", bad.Stderr);
        Assert.Equal("7", File.ReadAllText(V1("pids", id, "pids.max")).Trim());
    }

    [Fact]
    public void UpdateKeepsEveryFieldItSetInTheState()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var id = bundle.NewId("update-state");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        var resources = Path.Combine(bundle.Directory, "resources.json");
        File.WriteAllText(resources, """
            {"memory": {"limit": 67108864, "disableOOMKiller": true, "checkBeforeUpdate": true}, "cpu": {"idle": 1}}
            """);
        MoatCli.Run("update", "--resources", resources, id).Ok();
        Assert.Contains("oom_kill_disable 1", File.ReadAllLines(V1("memory", id, "memory.oom_control")));
        Assert.Equal("1", File.ReadAllText(V1("cpu", id, "cpu.idle")).Trim());
        // A second update of another field keeps what the first set.
        MoatCli.Run("update", "--pids-limit", "9", id).Ok();

        var kept = ResourcesInState(id);
        Assert.Equal(67108864, kept.GetProperty("memory").GetProperty("limit").GetInt64());
        Assert.True(kept.GetProperty("memory").GetProperty("disableOOMKiller").GetBoolean());
        Assert.True(kept.GetProperty("memory").GetProperty("checkBeforeUpdate").GetBoolean());
        Assert.Equal(1, kept.GetProperty("cpu").GetProperty("idle").GetInt64());
        Assert.Equal(9, kept.GetProperty("pids").GetProperty("limit").GetInt64());

        // This host has no rdma controller: the field is refused by name and the state is unchanged.
        File.WriteAllText(resources, """{"rdma": {"mlx5_0": {"hcaHandles": 2}}}""");
        var refused = MoatCli.Run("update", "--resources", resources, id);
        if (!Directory.Exists("/sys/fs/cgroup/rdma"))
        {
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("rdma", refused.Stderr);
            Assert.False(ResourcesInState(id).TryGetProperty("rdma", out _));
        }
    }

    /// <summary>linux.resources of the config kept in the container's state.json.</summary>
    static JsonElement ResourcesInState(string id) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(MoatCli.StateRoot, id, "state.json"))).RootElement
            .GetProperty("config").GetProperty("linux").GetProperty("resources");

    [Fact]
    public void CpuQuotaShowsAsThrottlingInTheKernelsStatistics()
    {
        using var bundle = new TestBundle("sh", "-c", "while :; do :; done");
        bundle.Spec.Linux!.Resources!.Cpu = new LinuxCpu { Quota = 10000, Period = 100000 };
        var id = bundle.NewId("cpu");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        Wait.Until(() => File.ReadAllLines(V1("cpu", id, "cpu.stat")).Any(l => l.StartsWith("nr_throttled ") && l != "nr_throttled 0"),
            "the quota to throttle the busy loop", seconds: 30);
        Assert.Equal("10000", File.ReadAllText(V1("cpu", id, "cpu.cfs_quota_us")).Trim());
    }

    [Fact]
    public async Task EventsReportStatsAndOomKills()
    {
        using var bundle = new TestBundle("sh", "-c", "x=$(head -c 134217728 /dev/zero | tr '\\0' a); echo survived");
        bundle.Spec.Linux!.Resources!.Memory = new LinuxMemory { Limit = 32 * 1024 * 1024, Swap = 32 * 1024 * 1024 };
        bundle.Spec.Linux.Resources.Pids = new LinuxPids { Limit = 50 };
        var id = bundle.NewId("events");
        bundle.Create(id).Ok();

        var stats = JsonDocument.Parse(MoatCli.Run("events", "--stats", id).Ok().Stdout).RootElement;
        Assert.Equal("stats", stats.GetProperty("type").GetString());
        Assert.Equal(id, stats.GetProperty("id").GetString());
        Assert.Equal(32 * 1024 * 1024, stats.GetProperty("data").GetProperty("memory").GetProperty("usage").GetProperty("limit").GetInt64());
        Assert.Equal(50, stats.GetProperty("data").GetProperty("pids").GetProperty("limit").GetInt64());
        Assert.True(stats.GetProperty("data").GetProperty("pids").GetProperty("current").GetInt64() >= 1);

        // The stream runs until the container stops, and reports the OOM kill on the way.
        var stream = Task.Run(() => MoatCli.Run("events", "--interval", "100ms", id));
        MoatCli.Run("start", id).Ok();
        var lines = (await stream).Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(lines, l => l.GetProperty("type").GetString() == "oom" && l.GetProperty("id").GetString() == id);
    }

    [Fact]
    public void DeviceRulesDenyAndAllow()
    {
        using var bundle = new TestBundle();
        // Two nodes in /dev; the cgroup allows the first (the default list has c 1:3) and not /dev/kmsg (c 1:11).
        bundle.Spec.Linux!.Devices = [new LinuxDevice { Type = "c", Path = "/dev/kmsg", Major = 1, Minor = 11, FileMode = Convert.ToUInt32("666", 8) }];
        var output = bundle.Sh("echo x > /dev/null && echo null-allowed; cat /dev/kmsg 2>&1 | head -1 || true");
        Assert.StartsWith("null-allowed\n", output);
        Assert.Contains("Operation not permitted", output);
    }
}
