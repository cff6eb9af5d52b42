using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Xunit;

namespace Moat.Tests.Unit.Cgroups;

/// <summary>What every linux.resources field writes on a cgroup v1 host (a fake cgroupfs).</summary>
public sealed class ResourceWriterV1Tests : IDisposable
{
    const string Cpu = "cpu,cpuacct", Net = "net_cls,net_prio";
    const long M = 1 << 20;

    readonly FakeCgroupFs fs = FakeCgroupFs.V1();

    public void Dispose() => fs.Dispose();

    void Apply(LinuxResources r)
    {
        var writer = fs.Writer();
        writer.Validate(r);
        writer.Apply(r);
    }

    RuntimeException Rejected(LinuxResources r) => Assert.Throws<RuntimeException>(() => fs.Writer().Validate(r));

    // ---- memory ----

    [Fact]
    public void MemoryFieldsGoToTheirV1Files()
    {
        Apply(new LinuxResources
        {
            Memory = new LinuxMemory
            {
                Limit = 100 * M, Swap = 200 * M, Reservation = 50 * M, KernelTcp = 64 * M, Swappiness = 10,
                DisableOomKiller = true, UseHierarchy = true,
            },
        });

        Assert.Equal("104857600", fs.Read("memory", "memory.limit_in_bytes"));
        Assert.Equal("209715200", fs.Read("memory", "memory.memsw.limit_in_bytes"));
        Assert.Equal("52428800", fs.Read("memory", "memory.soft_limit_in_bytes"));
        Assert.Equal("67108864", fs.Read("memory", "memory.kmem.tcp.limit_in_bytes"));
        Assert.Equal("10", fs.Read("memory", "memory.swappiness"));
        Assert.Equal("1", fs.Read("memory", "memory.oom_control"));
        Assert.Equal("1", fs.Read("memory", "memory.use_hierarchy"));
        Assert.Empty(fs.Warnings);
    }

    [Fact]
    public void LoweringFromTheDefaultWritesTheLimitBeforeMemsw()
    {
        // Fresh cgroup: both are "unlimited"; memsw 200M below the current limit must wait for the limit.
        Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 100 * M, Swap = 200 * M } });

        Assert.Equal(["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"], fs.WrittenFiles("memory"));
    }

    [Fact]
    public void RaisingPastTheCurrentLimitWritesMemswFirst()
    {
        fs.Set("memory", "memory.limit_in_bytes", "104857600\n");
        fs.Set("memory", "memory.memsw.limit_in_bytes", "209715200\n");

        fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { Limit = 300 * M, Swap = 600 * M } });

        Assert.Equal(["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"], fs.WrittenFiles("memory"));
        Assert.Equal("629145600", fs.Read("memory", "memory.memsw.limit_in_bytes"));
        Assert.Equal("314572800", fs.Read("memory", "memory.limit_in_bytes"));
    }

    [Fact]
    public void LoweringBelowTheCurrentLimitWritesTheLimitFirst()
    {
        fs.Set("memory", "memory.limit_in_bytes", "1073741824\n");
        fs.Set("memory", "memory.memsw.limit_in_bytes", "2147483648\n");

        fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { Limit = 100 * M, Swap = 200 * M } });

        Assert.Equal(["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"], fs.WrittenFiles("memory"));
    }

    [Fact]
    public void UnlimitedSwapIsWrittenFirst()
    {
        fs.Set("memory", "memory.limit_in_bytes", "104857600\n");
        fs.Set("memory", "memory.memsw.limit_in_bytes", "209715200\n");

        fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { Limit = 500 * M, Swap = -1 } });

        Assert.Equal(["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"], fs.WrittenFiles("memory"));
        Assert.Equal("-1", fs.Read("memory", "memory.memsw.limit_in_bytes"));
    }

    [Fact]
    public void UnlimitedMemoryLiftsMemswToo()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { Limit = -1 } });

        Assert.Equal(["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"], fs.WrittenFiles("memory"));
        Assert.Equal("-1", fs.Read("memory", "memory.limit_in_bytes"));
        Assert.Equal("-1", fs.Read("memory", "memory.memsw.limit_in_bytes"));
    }

    [Fact]
    public void ZeroMeansNotSetAsInRunc()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 0, Swap = 0, Reservation = 0 }, Cpu = new LinuxCpu { Shares = 0, Quota = 0, Period = 0 } });

        Assert.Empty(fs.Writes);
    }

    [Fact]
    public void SwapWithoutSwapAccountingIsRefusedBeforeWriting()
    {
        fs.Remove("memory", "memory.memsw.limit_in_bytes");

        var e = Rejected(new LinuxResources { Memory = new LinuxMemory { Limit = 100 * M, Swap = 200 * M } });

        Assert.Equal($"linux.resources.memory.swap is set, but {fs.Dir("memory")} has no memory.memsw.limit_in_bytes (swap accounting is off: boot the kernel with swapaccount=1)", e.Message);
    }

    [Fact]
    public void SwapMissingIsRefusedByApplyToo()
    {
        var writer = fs.Writer();
        var r = new LinuxResources { Memory = new LinuxMemory { Limit = 100 * M, Swap = 200 * M } };
        writer.Validate(r);
        fs.Remove("memory", "memory.memsw.limit_in_bytes");

        var e = Assert.Throws<RuntimeException>(() => writer.Apply(r));

        Assert.StartsWith("linux.resources.memory.swap is set, but", e.Message);
        Assert.Empty(fs.Writes);
    }

    [Fact]
    public void UnlimitedSwapWithoutSwapAccountingHasNothingToDo()
    {
        fs.Remove("memory", "memory.memsw.limit_in_bytes");

        Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 100 * M, Swap = -1 } });

        Assert.Equal(["memory.limit_in_bytes"], fs.WrittenFiles("memory"));
    }

    [Fact]
    public void KernelMemoryIsIgnoredWithAWarning()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { Kernel = 100 * M } });

        Assert.Empty(fs.Writes);
        Assert.Equal(["linux.resources.memory.kernel: kernel memory limits are deprecated by Linux and are ignored (as runc does)"], fs.Warnings);
    }

    [Fact]
    public void TheWarningIsNotRepeatedByApplyAfterValidate()
    {
        var writer = fs.Writer();
        var r = new LinuxResources { Memory = new LinuxMemory { Kernel = 1, Limit = 10 * M } };

        writer.Validate(r);
        writer.Apply(r);

        Assert.Single(fs.Warnings);
    }

    [Fact]
    public void OomKillerIsReenabledOnlyByAnUpdate()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { DisableOomKiller = false } });
        Assert.Empty(fs.Writes);

        fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { DisableOomKiller = false } });
        Assert.Equal(["0"], fs.WritesTo("memory", "memory.oom_control"));
    }

    [Fact]
    public void UseHierarchyFalseIsWritten()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { UseHierarchy = false } });

        Assert.Equal("0", fs.Read("memory", "memory.use_hierarchy"));
    }

    [Fact]
    public void CheckBeforeUpdateIsLeftToTheKernelOnV1()
    {
        fs.Set("memory", "memory.usage_in_bytes", "524288000\n");

        fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { Limit = 100 * M, CheckBeforeUpdate = true } });

        Assert.Equal("104857600", fs.Read("memory", "memory.limit_in_bytes"));
    }

    [Fact]
    public void AFailedWriteNamesTheFieldFileValueAndError()
    {
        fs.MakeUnwritable("memory", "memory.limit_in_bytes");

        var e = Assert.Throws<RuntimeException>(() => Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 123 * M } }));

        Assert.Equal($"linux.resources.memory.limit: cannot set memory.limit_in_bytes = 128974848 in {fs.Dir("memory")}: No space left on device (errno 28)", e.Message);
    }

    // ---- cpu ----

    [Fact]
    public void CpuFieldsGoToTheirV1FilesInOrder()
    {
        Apply(new LinuxResources
        {
            Cpu = new LinuxCpu
            {
                Shares = 512, Quota = 50000, Period = 100000, Burst = 20000, RealtimeRuntime = 950000, RealtimePeriod = 1000000, Idle = 1,
            },
        });

        // The burst fits the current (unlimited) quota, so it goes first.
        Assert.Equal(["cpu.shares", "cpu.cfs_burst_us", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.rt_period_us", "cpu.rt_runtime_us", "cpu.idle"],
            fs.WrittenFiles(Cpu));
        Assert.Equal("512", fs.Read(Cpu, "cpu.shares"));
        Assert.Equal("100000", fs.Read(Cpu, "cpu.cfs_period_us"));
        Assert.Equal("50000", fs.Read(Cpu, "cpu.cfs_quota_us"));
        Assert.Equal("20000", fs.Read(Cpu, "cpu.cfs_burst_us"));
        Assert.Equal("1000000", fs.Read(Cpu, "cpu.rt_period_us"));
        Assert.Equal("950000", fs.Read(Cpu, "cpu.rt_runtime_us"));
        Assert.Equal("1", fs.Read(Cpu, "cpu.idle"));
    }

    [Fact]
    public void LeavingIdleComesBeforeTheShares()
    {
        // The kernel refuses cpu.shares in an idle group, on v1 as on v2.
        fs.Writer().Update(new LinuxResources { Cpu = new LinuxCpu { Idle = 0, Shares = 1024 } });

        Assert.Equal(["cpu.idle", "cpu.shares"], fs.WrittenFiles(Cpu));
    }

    [Fact]
    public void ABurstAboveTheCurrentQuotaWaitsForTheNewQuota()
    {
        fs.Set(Cpu, "cpu.cfs_quota_us", "20000\n");

        fs.Writer().Update(new LinuxResources { Cpu = new LinuxCpu { Quota = 80000, Burst = 50000 } });

        Assert.Equal(["cpu.cfs_quota_us", "cpu.cfs_burst_us"], fs.WrittenFiles(Cpu));
    }

    [Fact]
    public void UnlimitedQuotaIsMinusOne()
    {
        Apply(new LinuxResources { Cpu = new LinuxCpu { Quota = -1 } });

        Assert.Equal("-1", fs.Read(Cpu, "cpu.cfs_quota_us"));
    }

    [Fact]
    public void UpdateMayChangeTheQuotaAlone()
    {
        fs.Writer().Update(new LinuxResources { Cpu = new LinuxCpu { Quota = 25000 } });

        Assert.Equal(["cpu.cfs_quota_us"], fs.WrittenFiles(Cpu));
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(262145UL)]
    public void SharesOutsideTheKernelRangeAreRefused(ulong shares)
    {
        var e = Rejected(new LinuxResources { Cpu = new LinuxCpu { Shares = shares } });

        Assert.Equal($"linux.resources.cpu.shares ({shares}) must be between 2 and 262144 (cpu.shares of cgroup v1)", e.Message);
    }

    [Fact]
    public void RealtimeWithoutRtGroupSchedulingIsRefused()
    {
        fs.Remove(Cpu, "cpu.rt_runtime_us");
        fs.Remove(Cpu, "cpu.rt_period_us");

        var e = Rejected(new LinuxResources { Cpu = new LinuxCpu { RealtimeRuntime = 1000 } });

        Assert.Equal($"linux.resources.cpu.realtimeRuntime is set, but {fs.Dir(Cpu)} has no cpu.rt_runtime_us (the kernel lacks CONFIG_RT_GROUP_SCHED)", e.Message);
    }

    [Fact]
    public void IdleNeedsTheFile()
    {
        fs.Remove(Cpu, "cpu.idle");

        var e = Rejected(new LinuxResources { Cpu = new LinuxCpu { Idle = 1 } });

        Assert.Equal($"linux.resources.cpu.idle is set, but {fs.Dir(Cpu)} has no cpu.idle (cpu.idle needs Linux 5.15 or later)", e.Message);
    }

    [Fact]
    public void BurstNeedsTheFile()
    {
        fs.Remove(Cpu, "cpu.cfs_burst_us");

        var e = Rejected(new LinuxResources { Cpu = new LinuxCpu { Burst = 1000, Quota = 5000, Period = 10000 } });

        Assert.Equal($"linux.resources.cpu.burst is set, but {fs.Dir(Cpu)} has no cpu.cfs_burst_us (CPU burst needs Linux 5.14 or later)", e.Message);
    }

    [Fact]
    public void CpusetListsAreWritten()
    {
        Apply(new LinuxResources { Cpu = new LinuxCpu { Cpus = "0-1,3", Mems = "0" } });

        Assert.Equal("0-1,3", fs.Read("cpuset", "cpuset.cpus"));
        Assert.Equal("0", fs.Read("cpuset", "cpuset.mems"));
    }

    [Fact]
    public void EmptyCpusetListsAreNotWritten()
    {
        Apply(new LinuxResources { Cpu = new LinuxCpu { Cpus = "", Mems = "" } });

        Assert.Empty(fs.Writes);
    }

    // ---- pids ----

    [Theory]
    [InlineData(100L, "100")]
    [InlineData(0L, "max")]
    [InlineData(-1L, "max")]
    public void PidsLimit(long limit, string expected)
    {
        Apply(new LinuxResources { Pids = new LinuxPids { Limit = limit } });

        Assert.Equal(expected, fs.Read("pids", "pids.max"));
    }

    // ---- blkio ----

    [Fact]
    public void WeightsGoToBfqFilesWhenThereIsNoCfq()
    {
        Apply(new LinuxResources
        {
            BlockIo = new LinuxBlockIo { Weight = 500, WeightDevice = [new() { Major = 8, Minor = 0, Weight = 300 }] },
        });

        Assert.Equal("500", fs.Read("blkio", "blkio.bfq.weight"));
        Assert.Equal(["8:0 300"], fs.WritesTo("blkio", "blkio.bfq.weight_device"));
    }

    [Fact]
    public void WeightsGoToCfqFilesWhenThereAreSome()
    {
        foreach (var file in new[] { "blkio.weight", "blkio.weight_device", "blkio.leaf_weight", "blkio.leaf_weight_device" })
            fs.Set("blkio", file, "");

        Apply(new LinuxResources
        {
            BlockIo = new LinuxBlockIo
            {
                Weight = 500, LeafWeight = 200,
                WeightDevice = [new() { Major = 8, Minor = 0, Weight = 300, LeafWeight = 100 }, new() { Major = 8, Minor = 16, LeafWeight = 50 }],
            },
        });

        Assert.Equal("500", fs.Read("blkio", "blkio.weight"));
        Assert.Equal("200", fs.Read("blkio", "blkio.leaf_weight"));
        Assert.Equal(["8:0 300"], fs.WritesTo("blkio", "blkio.weight_device"));
        Assert.Equal(["8:0 100", "8:16 50"], fs.WritesTo("blkio", "blkio.leaf_weight_device"));
        Assert.Empty(fs.WritesTo("blkio", "blkio.bfq.weight"));
    }

    [Fact]
    public void LeafWeightWithoutCfqIsRefused()
    {
        var e = Rejected(new LinuxResources { BlockIo = new LinuxBlockIo { LeafWeight = 200 } });

        Assert.Equal($"linux.resources.blockIO.leafWeight is set, but {fs.Dir("blkio")} has no blkio.leaf_weight (weights need the CFQ or BFQ I/O scheduler (leaf weights: CFQ, removed in Linux 5.0))", e.Message);
    }

    [Fact]
    public void WeightWithoutCfqOrBfqIsRefused()
    {
        fs.Remove("blkio", "blkio.bfq.weight");

        var e = Rejected(new LinuxResources { BlockIo = new LinuxBlockIo { Weight = 200 } });

        Assert.StartsWith($"linux.resources.blockIO.weight is set, but {fs.Dir("blkio")} has no blkio.weight", e.Message);
    }

    [Fact]
    public void ThrottlesAreOneLinePerDevice()
    {
        Apply(new LinuxResources
        {
            BlockIo = new LinuxBlockIo
            {
                ThrottleReadBpsDevice = [new() { Major = 8, Minor = 0, Rate = 1048576 }, new() { Major = 8, Minor = 16, Rate = 0 }],
                ThrottleWriteBpsDevice = [new() { Major = 8, Minor = 0, Rate = 2097152 }],
                ThrottleReadIopsDevice = [new() { Major = 8, Minor = 0, Rate = 100 }],
                ThrottleWriteIopsDevice = [new() { Major = 259, Minor = 1, Rate = 200 }],
            },
        });

        Assert.Equal(["8:0 1048576", "8:16 0"], fs.WritesTo("blkio", "blkio.throttle.read_bps_device"));
        Assert.Equal(["8:0 2097152"], fs.WritesTo("blkio", "blkio.throttle.write_bps_device"));
        Assert.Equal(["8:0 100"], fs.WritesTo("blkio", "blkio.throttle.read_iops_device"));
        Assert.Equal(["259:1 200"], fs.WritesTo("blkio", "blkio.throttle.write_iops_device"));
    }

    // ---- hugetlb ----

    [Fact]
    public void HugepageLimitsSetTheLimitAndTheReservationLimit()
    {
        Apply(new LinuxResources { HugepageLimits = [new() { PageSize = "2MB", Limit = 4 * M }, new() { PageSize = "1GB", Limit = 1024 * M }] });

        Assert.Equal("4194304", fs.Read("hugetlb", "hugetlb.2MB.limit_in_bytes"));
        Assert.Equal("4194304", fs.Read("hugetlb", "hugetlb.2MB.rsvd.limit_in_bytes"));
        Assert.Equal("1073741824", fs.Read("hugetlb", "hugetlb.1GB.limit_in_bytes"));
        Assert.Equal("1073741824", fs.Read("hugetlb", "hugetlb.1GB.rsvd.limit_in_bytes"));
    }

    [Fact]
    public void HugepageLimitsWithoutReservationAccountingSetTheLimitOnly()
    {
        fs.Remove("hugetlb", "hugetlb.2MB.rsvd.limit_in_bytes");
        fs.Remove("hugetlb", "hugetlb.1GB.rsvd.limit_in_bytes");

        Apply(new LinuxResources { HugepageLimits = [new() { PageSize = "2MB", Limit = 4 * M }] });

        Assert.Equal(["hugetlb.2MB.limit_in_bytes"], fs.WrittenFiles("hugetlb"));
    }

    [Fact]
    public void AnUnknownPageSizeIsRefused()
    {
        var e = Rejected(new LinuxResources { HugepageLimits = [new() { PageSize = "16MB", Limit = 1 }] });

        Assert.Equal($"linux.resources.hugepageLimits[0] is set, but {fs.Dir("hugetlb")} has no hugetlb.16MB.limit_in_bytes (the kernel does not have huge pages of this size)", e.Message);
    }

    // ---- network ----

    [Fact]
    public void NetworkClassIdAndPriorities()
    {
        Apply(new LinuxResources
        {
            Network = new LinuxNetwork { ClassId = 1048577, Priorities = [new() { Name = "eth0", Priority = 500 }, new() { Name = "lo", Priority = 1 }] },
        });

        Assert.Equal("1048577", fs.Read(Net, "net_cls.classid"));
        Assert.Equal(["eth0 500", "lo 1"], fs.WritesTo(Net, "net_prio.ifpriomap"));
    }

    [Fact]
    public void NetworkWithoutItsHierarchyIsRefused()
    {
        using var bare = FakeCgroupFs.V1(null, Net);

        var e = Assert.Throws<RuntimeException>(() => bare.Writer().Validate(new LinuxResources { Network = new LinuxNetwork { ClassId = 1 } }));

        Assert.Equal("linux.resources.network.classID is set, but the host has no net_cls cgroup hierarchy", e.Message);
    }

    // ---- rdma ----

    [Fact]
    public void RdmaLimitsAreOneLinePerDevice()
    {
        Apply(new LinuxResources
        {
            Rdma = new() { ["mlx5_0"] = new LinuxRdma { HcaHandles = 3, HcaObjects = 1000 }, ["mlx4_0"] = new LinuxRdma { HcaObjects = 10 } },
        });

        Assert.Equal(["mlx5_0 hca_handle=3 hca_object=1000", "mlx4_0 hca_object=10"], fs.WritesTo("rdma", "rdma.max"));
    }

    // ---- devices ----

    [Fact]
    public void DeviceRulesInOrderThenTheDefaults()
    {
        Apply(new LinuxResources
        {
            Devices = [new() { Allow = false, Access = "rwm" }, new() { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "rw" }],
        });

        Assert.Equal(["a"], fs.WritesTo("devices", "devices.deny"));
        Assert.Equal(["c 10:229 rw", .. ResourceWriter.DefaultAllowedDevices], fs.WritesTo("devices", "devices.allow"));
        Assert.Equal(["devices.deny", "devices.allow"], fs.WrittenFiles("devices").Take(2));
    }

    [Fact]
    public void UpdateCannotChangeDeviceRules()
    {
        var e = Assert.Throws<RuntimeException>(() => fs.Writer().Update(new LinuxResources { Devices = [new() { Allow = false }] }));

        Assert.Equal("linux.resources.devices cannot be changed on a running container", e.Message);
        Assert.Empty(fs.Writes);
    }

    // ---- unified ----

    [Fact]
    public void UnifiedWithoutACgroup2MountIsRefused()
    {
        var e = Rejected(new LinuxResources { Unified = new() { ["hugetlb.2MB.max"] = "1" } });

        Assert.Equal("linux.resources.unified is set, but the host has no cgroup v2 hierarchy (its keys are cgroup v2 files)", e.Message);
    }
}
