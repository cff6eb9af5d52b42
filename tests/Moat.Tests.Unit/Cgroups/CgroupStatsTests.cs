using System.Text.Json;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Xunit;

namespace Moat.Tests.Unit.Cgroups;

/// <summary>Statistics read from fake v1 and v2 files in the kernel's formats, and their runc-shaped JSON.</summary>
public sealed class CgroupStatsTests
{
    const string Cpu = "cpu,cpuacct", U = "unified";

    static FakeCgroupFs V1WithStats()
    {
        var fs = FakeCgroupFs.V1();
        fs.Set(Cpu, "cpuacct.usage", "123456789\n");
        fs.Set(Cpu, "cpuacct.usage_percpu", "100000000 23456789 \n");
        fs.Set(Cpu, "cpuacct.usage_all", "cpu user system\n0 60000000 40000000\n1 20000000 3456789\n");
        fs.Set(Cpu, "cpuacct.stat", "user 8\nsystem 4\n");
        fs.Set(Cpu, "cpu.stat", "nr_periods 10\nnr_throttled 2\nthrottled_time 3000000\nnr_bursts 0\nburst_time 0\n");
        fs.Set("memory", "memory.usage_in_bytes", "1048576\n");
        fs.Set("memory", "memory.max_usage_in_bytes", "2097152\n");
        fs.Set("memory", "memory.limit_in_bytes", "4194304\n");
        fs.Set("memory", "memory.failcnt", "1\n");
        fs.Set("memory", "memory.memsw.usage_in_bytes", "1572864\n");
        fs.Set("memory", "memory.memsw.max_usage_in_bytes", "2621440\n");
        fs.Set("memory", "memory.memsw.failcnt", "0\n");
        fs.Set("memory", "memory.memsw.limit_in_bytes", "8388608\n");
        fs.Set("memory", "memory.kmem.tcp.usage_in_bytes", "4096\n");
        fs.Set("memory", "memory.kmem.tcp.max_usage_in_bytes", "8192\n");
        fs.Set("memory", "memory.kmem.tcp.failcnt", "0\n");
        fs.Set("memory", "memory.stat", "cache 65536\nrss 983040\nrss_huge 0\nshmem 0\ntotal_cache 65536\n");
        fs.Set("pids", "pids.current", "3\n");
        fs.Set("blkio", "blkio.throttle.io_service_bytes", "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n");
        fs.Set("blkio", "blkio.throttle.io_serviced", "8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n");
        fs.Set("hugetlb", "hugetlb.2MB.usage_in_bytes", "2097152\n");
        fs.Set("hugetlb", "hugetlb.2MB.max_usage_in_bytes", "4194304\n");
        fs.Set("hugetlb", "hugetlb.2MB.failcnt", "1\n");
        fs.Set("cpuset", "cpuset.cpus", "0-2,5\n");
        fs.Set("cpuset", "cpuset.mems", "0\n");
        return fs;
    }

    [Fact]
    public void V1CpuStatistics()
    {
        using var fs = V1WithStats();

        var cpu = CgroupStats.Read(fs.Cgroup()).Cpu;

        Assert.Equal(123456789UL, cpu.Usage!.Total);
        Assert.Equal([100000000UL, 23456789UL], cpu.Usage.Percpu);
        Assert.Equal([60000000UL, 20000000UL], cpu.Usage.PercpuUser);
        Assert.Equal([40000000UL, 3456789UL], cpu.Usage.PercpuKernel);
        Assert.Equal(80000000UL, cpu.Usage.User); // 8 ticks of 10 ms
        Assert.Equal(40000000UL, cpu.Usage.Kernel);
        Assert.Equal(10UL, cpu.Throttling!.Periods);
        Assert.Equal(2UL, cpu.Throttling.ThrottledPeriods);
        Assert.Equal(3000000UL, cpu.Throttling.ThrottledTime);
        Assert.Null(cpu.Psi);
    }

    [Fact]
    public void V1MemoryStatistics()
    {
        using var fs = V1WithStats();

        var memory = CgroupStats.Read(fs.Cgroup()).Memory;

        Assert.Equal(65536UL, memory.Cache);
        Assert.Equal(1048576UL, memory.Usage!.Usage);
        Assert.Equal(2097152UL, memory.Usage.Max);
        Assert.Equal(4194304UL, memory.Usage.Limit);
        Assert.Equal(1UL, memory.Usage.Failcnt);
        Assert.Equal(1572864UL, memory.Swap!.Usage);
        Assert.Equal(8388608UL, memory.Swap.Limit);
        Assert.Null(memory.Kernel); // no memory.kmem.* files (gone since Linux 6.1)
        Assert.Equal(4096UL, memory.KernelTcp!.Usage);
        Assert.Equal(9223372036854771712UL, memory.KernelTcp.Limit);
        Assert.Equal(983040UL, memory.Raw!["rss"]);
        Assert.Equal(5, memory.Raw.Count);
    }

    [Fact]
    public void V1OtherStatistics()
    {
        using var fs = V1WithStats();

        var stats = CgroupStats.Read(fs.Cgroup());

        Assert.Equal(3UL, stats.Pids.Current);
        Assert.Equal(0UL, stats.Pids.Limit); // "max"
        Assert.Collection(stats.Blkio.IoServiceBytesRecursive!,
            e => Assert.Equal((8UL, 0UL, "Read", 4096UL), (e.Major, e.Minor, e.Op, e.Value)),
            e => Assert.Equal((8UL, 0UL, "Write", 8192UL), (e.Major, e.Minor, e.Op, e.Value)),
            e => Assert.Equal("Sync", e.Op), e => Assert.Equal("Async", e.Op), e => Assert.Equal("Discard", e.Op),
            e => Assert.Equal(("Total", 12288UL), (e.Op, e.Value)));
        Assert.Equal(3, stats.Blkio.IoServicedRecursive!.Count);
        Assert.Equal(2097152UL, stats.Hugetlb["2MB"].Usage);
        Assert.Equal(4194304UL, stats.Hugetlb["2MB"].Max);
        Assert.Equal(1UL, stats.Hugetlb["2MB"].Failcnt);
        Assert.Equal(["1GB", "2MB"], stats.Hugetlb.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([(ushort)0, 1, 2, 5], stats.Cpuset.Cpus);
        Assert.Equal([(ushort)0], stats.Cpuset.Mems);
        Assert.Equal(1UL, stats.Cpuset.SchedLoadBalance);
        Assert.Equal(-1L, stats.Cpuset.SchedRelaxDomainLevel);
    }

    [Fact]
    public void V1BlkioPrefersTheBfqRecursiveStatistics()
    {
        using var fs = V1WithStats();
        fs.Set("blkio", "blkio.bfq.io_service_bytes_recursive", "253:1 Read 77\n253:1 Write 0\nTotal 77\n");
        fs.Set("blkio", "blkio.bfq.io_serviced_recursive", "253:1 Read 7\nTotal 7\n");

        var blkio = CgroupStats.Read(fs.Cgroup()).Blkio;

        Assert.Equal((253UL, 1UL, "Read", 77UL), (blkio.IoServiceBytesRecursive![0].Major, blkio.IoServiceBytesRecursive[0].Minor, blkio.IoServiceBytesRecursive[0].Op, blkio.IoServiceBytesRecursive[0].Value));
        Assert.Single(blkio.IoServicedRecursive!);
    }

    [Fact]
    public void V1SectorsHaveNoOperation()
    {
        using var fs = V1WithStats();
        fs.Set("blkio", "blkio.sectors_recursive", "8:0 4096\n");
        fs.Set("blkio", "blkio.io_service_bytes_recursive", "8:0 Read 1\n");

        var blkio = CgroupStats.Read(fs.Cgroup()).Blkio;

        Assert.Null(blkio.SectorsRecursive![0].Op);
        Assert.Equal(4096UL, blkio.SectorsRecursive[0].Value);
    }

    static FakeCgroupFs V2WithStats()
    {
        var fs = FakeCgroupFs.V2();
        fs.Set(U, "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\ncore_sched.force_idle_usec 0\nnr_periods 20\nnr_throttled 4\nthrottled_usec 7\nnr_bursts 0\nburst_usec 0\n");
        fs.Set(U, "cpu.pressure", "some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        fs.Set(U, "memory.current", "4096\n");
        fs.Set(U, "memory.peak", "8192\n");
        fs.Set(U, "memory.max", "max\n");
        fs.Set(U, "memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n");
        fs.Set(U, "memory.swap.current", "100\n");
        fs.Set(U, "memory.swap.max", "max\n");
        fs.Set(U, "memory.stat", "anon 1024\nfile 2048\nkernel 512\nsock 0\n");
        fs.Set(U, "pids.current", "4\n");
        fs.Set(U, "pids.max", "10\n");
        fs.Set(U, "io.stat", "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n253:1 rbytes=10 wbytes=20 rios=30 wios=40 dbytes=0 dios=0\n");
        fs.Set(U, "hugetlb.2MB.current", "2097152\n");
        fs.Set(U, "hugetlb.2MB.events", "max 3\n");
        return fs;
    }

    [Fact]
    public void V2Statistics()
    {
        using var fs = V2WithStats();

        var stats = CgroupStats.Read(fs.Cgroup());

        Assert.Equal(1500000UL, stats.Cpu.Usage!.Total);
        Assert.Equal(1000000UL, stats.Cpu.Usage.User);
        Assert.Equal(500000UL, stats.Cpu.Usage.Kernel);
        Assert.Null(stats.Cpu.Usage.Percpu);
        Assert.Equal((20UL, 4UL, 7000UL), (stats.Cpu.Throttling!.Periods, stats.Cpu.Throttling.ThrottledPeriods, stats.Cpu.Throttling.ThrottledTime));
        Assert.Equal(1.5, stats.Cpu.Psi!.Some!.Avg10);
        Assert.Equal(123456UL, stats.Cpu.Psi.Some.Total);
        Assert.Null(stats.Cpu.Psi.Full);

        Assert.Equal(2048UL, stats.Memory.Cache);
        Assert.Equal((4096UL, 8192UL, ulong.MaxValue, 2UL), (stats.Memory.Usage!.Usage, stats.Memory.Usage.Max, stats.Memory.Usage.Limit, stats.Memory.Usage.Failcnt));
        Assert.Equal(4196UL, stats.Memory.Swap!.Usage); // memory + swap, as runc reports it
        Assert.Equal(ulong.MaxValue, stats.Memory.Swap.Limit);
        Assert.Null(stats.Memory.Kernel);
        Assert.Equal(1024UL, stats.Memory.Raw!["anon"]);

        Assert.Equal((4UL, 10UL), (stats.Pids.Current, stats.Pids.Limit));
        Assert.Equal(["Read 1", "Write 2", "Read 10", "Write 20"], stats.Blkio.IoServiceBytesRecursive!.Select(e => $"{e.Op} {e.Value}"));
        Assert.Equal(["8:0 Read 3", "8:0 Write 4", "253:1 Read 30", "253:1 Write 40"], stats.Blkio.IoServicedRecursive!.Select(e => $"{e.Major}:{e.Minor} {e.Op} {e.Value}"));
        Assert.Equal((2097152UL, 0UL, 3UL), (stats.Hugetlb["2MB"].Usage, stats.Hugetlb["2MB"].Max, stats.Hugetlb["2MB"].Failcnt));
        Assert.Equal([(ushort)0, 1], stats.Cpuset.Cpus);
    }

    [Fact]
    public void V2SwapLimitIsMemoryPlusSwap()
    {
        using var fs = V2WithStats();
        fs.Set(U, "memory.max", "1000\n");
        fs.Set(U, "memory.swap.max", "500\n");

        var swap = CgroupStats.Read(fs.Cgroup()).Memory.Swap!;

        Assert.Equal(1500UL, swap.Limit);
    }

    [Fact]
    public void V2PidsWithoutTheControllerCountCgroupProcs()
    {
        using var fs = FakeCgroupFs.V2("cpu memory");
        fs.Set(U, "cgroup.procs", "1\n42\n43\n");

        Assert.Equal(3UL, CgroupStats.Read(fs.Cgroup()).Pids.Current);
    }

    [Fact]
    public void TheEventJsonHasRuncsShape()
    {
        using var fs = V2WithStats();

        using var doc = JsonDocument.Parse(CgroupStats.Read(fs.Cgroup()).ToEventJson("c1"));

        var root = doc.RootElement;
        Assert.Equal("stats", root.GetProperty("type").GetString());
        Assert.Equal("c1", root.GetProperty("id").GetString());
        var data = root.GetProperty("data");
        Assert.Equal(["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"], data.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, data.GetProperty("network_interfaces").ValueKind);
        Assert.Empty(data.GetProperty("intel_rdt").EnumerateObject());

        var usage = data.GetProperty("cpu").GetProperty("usage");
        Assert.Equal(["total", "kernel", "user"], usage.EnumerateObject().Select(p => p.Name)); // no per-cpu on v2
        Assert.Equal(1500000UL, usage.GetProperty("total").GetUInt64());
        Assert.Equal(["periods", "throttledPeriods", "throttledTime"], data.GetProperty("cpu").GetProperty("throttling").EnumerateObject().Select(p => p.Name));
        Assert.Equal(1.5, data.GetProperty("cpu").GetProperty("psi").GetProperty("some").GetProperty("avg10").GetDouble());

        var memory = data.GetProperty("memory");
        Assert.Equal(["cache", "usage", "swap", "raw"], memory.EnumerateObject().Select(p => p.Name)); // no kernel memory on v2
        Assert.Equal(["limit", "usage", "max", "failcnt"], memory.GetProperty("usage").EnumerateObject().Select(p => p.Name));
        Assert.Equal(18446744073709551615UL, memory.GetProperty("usage").GetProperty("limit").GetUInt64());
        Assert.Equal(2048UL, memory.GetProperty("raw").GetProperty("file").GetUInt64());

        Assert.Equal(4UL, data.GetProperty("pids").GetProperty("current").GetUInt64());
        var entry = data.GetProperty("blkio").GetProperty("ioServiceBytesRecursive")[0];
        Assert.Equal(["major", "op", "value"], entry.EnumerateObject().Select(p => p.Name)); // 8:0: a minor of 0 is left out, as runc's omitempty does
        Assert.Equal(["major", "minor", "op", "value"], data.GetProperty("blkio").GetProperty("ioServiceBytesRecursive")[2].EnumerateObject().Select(p => p.Name));
        var hugetlb = data.GetProperty("hugetlb");
        Assert.Equal(["usage", "failcnt"], hugetlb.GetProperty("2MB").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["failcnt"], hugetlb.GetProperty("1GB").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void TheHandWrittenJsonIsTheSerializersByteForByte()
    {
        using var v2 = V2WithStats();
        using var empty = FakeCgroupFs.V2("memory");
        var full = CgroupStats.Read(v2.Cgroup());
        full.Cpu.Usage!.Percpu = [1, 2, 18446744073709551615];
        full.Cpu.Usage.PercpuKernel = [];
        full.Cpu.Usage.PercpuUser = [3];
        full.Cpuset.Cpus = [0, 1, 65535];
        full.Cpuset.Mems = [0];
        full.Cpuset.SchedRelaxDomainLevel = -1;
        full.Memory.Kernel = null;
        full.Memory.Psi = new PsiStats { Full = new PsiData { Avg10 = 0.1, Avg60 = 1e-7, Avg300 = 12345.678, Total = 9 } };
        full.Blkio.Psi = new PsiStats();
        full.Hugetlb["\u00e9\"x"] = null!;
        full.NetworkInterfaces = [new NetworkInterfaceStats { Name = "eth0", RxBytes = 1, TxDropped = 2 }, null!];
        foreach (var stats in new[] { full, CgroupStats.Read(empty.Cgroup()) })
        {
            Assert.Equal(JsonSerializer.Serialize(stats, CgroupStatsJsonContext.Default.CgroupStats), stats.ToJson());
            Assert.Equal(JsonSerializer.Serialize(new StatsEvent { Id = "c\u00e9", Data = stats }, CgroupStatsJsonContext.Default.StatsEvent), stats.ToEventJson("c\u00e9"));
        }
    }

    [Fact]
    public void ZerosAreLeftOutAsRuncDoes()
    {
        using var fs = FakeCgroupFs.V2("memory");

        using var doc = JsonDocument.Parse(CgroupStats.Read(fs.Cgroup()).ToJson());

        var data = doc.RootElement;
        Assert.Empty(data.GetProperty("cpu").EnumerateObject()); // no usage, no throttling
        Assert.Empty(data.GetProperty("pids").EnumerateObject());
        Assert.Empty(data.GetProperty("blkio").EnumerateObject());
        Assert.Equal(JsonValueKind.Object, data.GetProperty("hugetlb").ValueKind);
        Assert.Equal(["cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate", "memory_spread_page", "memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level"],
            data.GetProperty("cpuset").EnumerateObject().Select(p => p.Name));
        // memory.max ("max") is a limit even with nothing used; failcnt is always written.
        Assert.Equal(["limit", "failcnt"], data.GetProperty("memory").GetProperty("usage").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void AMalformedFileIsAnErrorNamingIt()
    {
        using var fs = V2WithStats();
        fs.Set(U, "memory.stat", "anon 1024\nthis is wrong\n");

        var e = Assert.Throws<RuntimeException>(() => CgroupStats.Read(fs.Cgroup()));

        Assert.Equal($"malformed line \"this is wrong\" in {fs.File(U, "memory.stat")}: expected \"key value\"", e.Message);
    }

    [Fact]
    public void AMissingCgroupReadsAsZeros()
    {
        using var fs = FakeCgroupFs.V1();
        var gone = ContainerCgroup.For(fs.Host, "/moat/gone");

        var stats = CgroupStats.Read(gone);

        Assert.Null(stats.Cpu.Usage);
        Assert.Null(stats.Memory.Usage);
        Assert.Empty(stats.Hugetlb);
    }
}
