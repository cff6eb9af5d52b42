using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Xunit;

namespace Moat.Tests.Unit.Cgroups;

/// <summary>What every linux.resources field writes on a pure cgroup v2 host (a fake cgroupfs).</summary>
public sealed class ResourceWriterV2Tests : IDisposable
{
    const string U = "unified";
    const long M = 1 << 20;

    readonly FakeCgroupFs fs = FakeCgroupFs.V2();

    public void Dispose() => fs.Dispose();

    void Apply(LinuxResources r)
    {
        var writer = fs.Writer();
        writer.Validate(r);
        writer.Apply(r);
    }

    RuntimeException Rejected(LinuxResources r) => Assert.Throws<RuntimeException>(() => fs.Writer().Validate(r));

    string TopFile(string file) => Path.Combine(fs.Mount(U), file);
    string MoatFile(string file) => Path.Combine(fs.Mount(U), "moat", file);

    // ---- controllers in cgroup.subtree_control ----

    [Fact]
    public void TheNeededControllersAreEnabledInEveryAncestor()
    {
        Apply(new LinuxResources { Pids = new LinuxPids { Limit = 10 }, Memory = new LinuxMemory { Limit = 64 * M }, Cpu = new LinuxCpu { Shares = 1024 } });

        // In the kernel's order (cgroup.controllers), one request per level, before any limit.
        Assert.Equal("+cpu +memory +pids", File.ReadAllText(TopFile("cgroup.subtree_control")));
        Assert.Equal("+cpu +memory +pids", File.ReadAllText(MoatFile("cgroup.subtree_control")));
        Assert.Equal("\n", fs.Read(U, "cgroup.subtree_control"));
        Assert.Equal([TopFile("cgroup.subtree_control"), MoatFile("cgroup.subtree_control")], fs.Writes.Take(2).Select(w => w.Path));
    }

    [Fact]
    public void ControllersAlreadyEnabledAreNotWrittenAgain()
    {
        File.WriteAllText(TopFile("cgroup.subtree_control"), "cpu memory pids\n");

        Apply(new LinuxResources { Pids = new LinuxPids { Limit = 10 }, Memory = new LinuxMemory { Limit = 64 * M } });

        Assert.Equal("cpu memory pids\n", File.ReadAllText(TopFile("cgroup.subtree_control")));
        Assert.Equal("+memory +pids", File.ReadAllText(MoatFile("cgroup.subtree_control")));
    }

    [Fact]
    public void AControllerTheHostDoesNotOfferIsRefusedBeforeWriting()
    {
        using var small = FakeCgroupFs.V2("cpu memory pids");

        var e = Assert.Throws<RuntimeException>(() => small.Writer().Validate(new LinuxResources { BlockIo = new LinuxBlockIo { Weight = 100 } }));

        Assert.Equal($"linux.resources.blockIO.weight is set, but the io controller is not available in {small.Mount(U)}/cgroup.controllers", e.Message);
    }

    [Fact]
    public void AControllerAnAncestorDoesNotOfferIsRefusedByApply()
    {
        File.WriteAllText(MoatFile("cgroup.controllers"), "cpu memory\n");

        var e = Assert.Throws<RuntimeException>(() => Apply(new LinuxResources { Pids = new LinuxPids { Limit = 10 } }));

        Assert.Equal($"linux.resources.pids.limit: the pids controller is not available in {MoatFile("cgroup.controllers")}, so it cannot be enabled for the container", e.Message);
        Assert.DoesNotContain(fs.Writes, w => w.Path.EndsWith("pids.max", StringComparison.Ordinal));
    }

    [Fact]
    public void AControllerAnAncestorRefusesIsReported()
    {
        // A file that reads (empty of controllers) but refuses writes: EIO as root, EACCES otherwise.
        File.Delete(MoatFile("cgroup.subtree_control"));
        File.CreateSymbolicLink(MoatFile("cgroup.subtree_control"), "/proc/version");

        var e = Assert.Throws<RuntimeException>(() => Apply(new LinuxResources { Pids = new LinuxPids { Limit = 10 } }));

        Assert.StartsWith($"linux.resources.pids.limit: cannot enable the pids controller: writing \"+pids\" to {MoatFile("cgroup.subtree_control")} failed: ", e.Message);
        Assert.Matches(@"\(errno (5|13)\)$", e.Message);
    }

    [Fact]
    public void CreateEnablesEveryOfferedControllerBestEffort()
    {
        File.WriteAllText(MoatFile("cgroup.controllers"), "cpu memory pids\n");

        fs.Cgroup().Create();

        Assert.Equal("+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc", File.ReadAllText(TopFile("cgroup.subtree_control")));
        Assert.Equal("+cpu +memory +pids", File.ReadAllText(MoatFile("cgroup.subtree_control")));
    }

    // ---- memory ----

    [Theory]
    [InlineData(100L, 300L, "100", "209715200")] // swap.max is swap alone: 300M - 100M
    [InlineData(100L, 100L, "100", "0")]
    [InlineData(100L, -1L, "100", "max")]
    [InlineData(-1L, null, "max", "max")] // unlimited memory with swap unset: unlimited swap too
    [InlineData(-1L, 500L, "max", "524288000")]
    public void MemoryAndSwap(long limitM, long? swapM, string expectedMax, string expectedSwap)
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { Limit = limitM == -1 ? -1 : limitM * M, Swap = swapM is > 0 ? swapM * M : swapM } });

        Assert.Equal(expectedMax == "max" ? "max" : (long.Parse(expectedMax) * M).ToString(), fs.Read(U, "memory.max"));
        Assert.Equal(expectedSwap, fs.Read(U, "memory.swap.max"));
        Assert.Equal(["memory.swap.max", "memory.max"], fs.WrittenFiles(U));
    }

    [Fact]
    public void ReservationIsMemoryLow()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { Reservation = 32 * M } });

        Assert.Equal("33554432", fs.Read(U, "memory.low"));
        Assert.Equal(["memory.low"], fs.WrittenFiles(U));
    }

    [Fact]
    public void UnlimitedReservationIsMax()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { Reservation = -1 } });

        Assert.Equal("max", fs.Read(U, "memory.low"));
    }

    [Fact]
    public void SwapWithoutLimitIsRefused()
    {
        var e = Rejected(new LinuxResources { Memory = new LinuxMemory { Swap = 100 * M } });

        Assert.Equal("linux.resources.memory.swap (104857600) is set without memory.limit: cgroup v2 limits swap apart from memory (memory.swap.max = swap - limit), so the limit is needed too", e.Message);
    }

    [Fact]
    public void SwapWithoutSwapAccounting()
    {
        File.Delete(fs.File(U, "memory.swap.max"));

        var e = Rejected(new LinuxResources { Memory = new LinuxMemory { Limit = 100 * M, Swap = 200 * M } });
        Assert.Equal($"linux.resources.memory.swap is set, but {fs.Dir(U)} has no memory.swap.max (swap accounting is off: boot the kernel with swapaccount=1)", e.Message);

        // Unlimited swap has nothing to do; no swap at all cannot be enforced, which is said.
        Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 100 * M, Swap = -1 } });
        Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 100 * M, Swap = 100 * M } });
        Assert.Equal(["memory.max", "memory.max"], fs.WrittenFiles(U));
        Assert.Equal([$"linux.resources.memory.swap: {fs.Dir(U)} has no memory.swap.max (swap accounting is off), so swap cannot be limited to 0"], fs.Warnings);
    }

    public static TheoryData<string, LinuxMemory> V1OnlyMemoryFields => new()
    {
        { "linux.resources.memory.kernelTCP is set, but cgroup v2 has no kernel TCP memory limit (memory.kmem.tcp.limit_in_bytes is cgroup v1 only)", new LinuxMemory { KernelTcp = 1 } },
        { "linux.resources.memory.disableOOMKiller is true, but cgroup v2 cannot disable the OOM killer (memory.oom_control is cgroup v1 only)", new LinuxMemory { DisableOomKiller = true } },
        { "linux.resources.memory.useHierarchy is false, but cgroup v2 accounting is always hierarchical", new LinuxMemory { UseHierarchy = false } },
    };

    [Theory]
    [MemberData(nameof(V1OnlyMemoryFields))]
    public void V1OnlyMemoryFieldsAreRefused(string message, LinuxMemory memory)
    {
        Assert.Equal(message, Rejected(new LinuxResources { Memory = memory }).Message);
    }

    [Fact]
    public void DefaultsOfV1OnlyFieldsNeedNothing()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { DisableOomKiller = false, UseHierarchy = true } });

        Assert.Empty(fs.Writes);
        Assert.Empty(fs.Warnings);
    }

    [Fact]
    public void SwappinessAndKernelMemoryAreIgnoredWithWarnings()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { Swappiness = 10, Kernel = 1 } });

        Assert.Empty(fs.Writes);
        Assert.Equal(
            ["linux.resources.memory.kernel: kernel memory limits are deprecated by Linux and are ignored (as runc does)",
             "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness; ignored (as runc does)"],
            fs.Warnings);
    }

    [Fact]
    public void AFailedWriteNamesTheFieldFileValueAndError()
    {
        fs.MakeUnwritable(U, "memory.max");

        var e = Assert.Throws<RuntimeException>(() => Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 123 } }));

        Assert.Equal($"linux.resources.memory.limit: cannot set memory.max = 123 in {fs.Dir(U)}: No space left on device (errno 28)", e.Message);
    }

    // ---- checkBeforeUpdate ----

    [Fact]
    public void CheckBeforeUpdateRefusesALimitNotAboveTheUsage()
    {
        fs.Set(U, "memory.current", "524288000\n");

        var e = Assert.Throws<RuntimeException>(() => fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { Limit = 400 * M, CheckBeforeUpdate = true } }));

        Assert.Equal($"linux.resources.memory.limit (419430400) is not above the container's current memory usage (524288000, {fs.File(U, "memory.current")}), and memory.checkBeforeUpdate is set: update refused", e.Message);
        Assert.Empty(fs.Writes);
    }

    [Fact]
    public void CheckBeforeUpdateRefusesASwapLimitNotAboveTheUsage()
    {
        fs.Set(U, "memory.current", "524288000\n");

        var e = Assert.Throws<RuntimeException>(() => fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { Limit = 600 * M, Swap = 500 * M + 1, CheckBeforeUpdate = true } }));

        Assert.Equal("linux.resources.memory.swap (524288001) must not be below memory.limit (629145600): swap is the limit of memory plus swap", e.Message);

        var e2 = Assert.Throws<RuntimeException>(() => fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { Limit = -1, Swap = 400 * M, CheckBeforeUpdate = true } }));
        Assert.StartsWith("linux.resources.memory.swap (419430400) is not above the container's current memory usage (524288000", e2.Message);
    }

    [Fact]
    public void CheckBeforeUpdateLetsAHigherLimitThrough()
    {
        fs.Set(U, "memory.current", "524288000\n");

        fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { Limit = 600 * M, CheckBeforeUpdate = true } });

        Assert.Equal("629145600", fs.Read(U, "memory.max"));
    }

    [Fact]
    public void WithoutCheckBeforeUpdateALowLimitIsWritten()
    {
        fs.Set(U, "memory.current", "524288000\n");

        fs.Writer().Update(new LinuxResources { Memory = new LinuxMemory { Limit = 400 * M } });

        Assert.Equal("419430400", fs.Read(U, "memory.max"));
    }

    [Fact]
    public void CheckMemoryBeforeUpdateCanBeCalledAlone()
    {
        fs.Set(U, "memory.current", "1000\n");
        var writer = fs.Writer();

        writer.CheckMemoryBeforeUpdate(new LinuxMemory { Limit = 2000, CheckBeforeUpdate = true });
        writer.CheckMemoryBeforeUpdate(new LinuxMemory { Limit = 500 });
        Assert.Throws<RuntimeException>(() => writer.CheckMemoryBeforeUpdate(new LinuxMemory { Limit = 1000, CheckBeforeUpdate = true }));
    }

    // ---- cpu ----

    [Fact]
    public void CpuFieldsGoToTheirV2FilesInOrder()
    {
        Apply(new LinuxResources { Cpu = new LinuxCpu { Shares = 1024, Quota = 50000, Period = 100000, Burst = 10000, Idle = 1 } });

        Assert.Equal(["cpu.weight", "cpu.idle", "cpu.max.burst", "cpu.max"], fs.WrittenFiles(U));
        Assert.Equal("1", fs.Read(U, "cpu.idle"));
        Assert.Equal("39", fs.Read(U, "cpu.weight"));
        Assert.Equal("10000", fs.Read(U, "cpu.max.burst"));
        Assert.Equal("50000 100000", fs.Read(U, "cpu.max"));
    }

    [Theory]
    [InlineData(1L, new[] { "cpu.weight", "cpu.idle" })]
    [InlineData(0L, new[] { "cpu.idle", "cpu.weight" })]
    public void TheWeightIsNeverWrittenWhileTheGroupIsIdle(long idle, string[] order)
    {
        // The kernel refuses cpu.weight in an idle group (seen on Linux 6.1 in the v2 VM lane).
        fs.Writer().Update(new LinuxResources { Cpu = new LinuxCpu { Idle = idle, Shares = 1024 } });

        Assert.Equal(order, fs.WrittenFiles(U));
        Assert.Equal(idle.ToString(), fs.Read(U, "cpu.idle"));
    }

    [Theory]
    [InlineData(-1L, 100000UL, "max 100000")]
    [InlineData(null, 200000UL, "max 200000")]
    [InlineData(25000L, 50000UL, "25000 50000")]
    public void CpuMaxOnCreate(long? quota, ulong? period, string expected)
    {
        Apply(new LinuxResources { Cpu = new LinuxCpu { Quota = quota, Period = period } });

        Assert.Equal(expected, fs.Read(U, "cpu.max"));
    }

    [Fact]
    public void UpdateOfTheQuotaAloneKeepsThePeriod()
    {
        fs.Writer().Update(new LinuxResources { Cpu = new LinuxCpu { Quota = 30000 } });

        Assert.Equal("30000", fs.Read(U, "cpu.max"));
    }

    [Fact]
    public void ARefusedDeviceWeightNamesTheIoCostSwitch()
    {
        // The kernel answers EOPNOTSUPP for a device the io cost controller is not enabled on.
        Assert.Contains("write \"254:0 enable=1\" to io.cost.qos", ResourceWriter.IoWeightDeviceDetail(95, 254, 0));
        Assert.Equal("", ResourceWriter.IoWeightDeviceDetail(22, 254, 0));
    }

    [Fact]
    public void UpdateChecksEveryFieldBeforeWritingAny()
    {
        // moat update relies on this (it does not call Validate, which is create's check).
        var e = Assert.Throws<RuntimeException>(() => fs.Writer().Update(new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 64 * M },
            Cpu = new LinuxCpu { Quota = 30000, Idle = 5 },
        }));

        Assert.Contains("cpu.idle (5)", e.Message);
        Assert.Empty(fs.Writes);
    }

    [Fact]
    public void UpdateOfThePeriodAloneKeepsTheQuota()
    {
        fs.Set(U, "cpu.max", "30000 100000\n");

        fs.Writer().Update(new LinuxResources { Cpu = new LinuxCpu { Period = 200000 } });

        Assert.Equal("30000 200000", fs.Read(U, "cpu.max"));
    }

    [Fact]
    public void ABurstAboveTheCurrentQuotaWaitsForTheNewQuota()
    {
        fs.Set(U, "cpu.max", "20000 100000\n");

        fs.Writer().Update(new LinuxResources { Cpu = new LinuxCpu { Quota = 80000, Period = 100000, Burst = 50000 } });

        Assert.Equal(["cpu.max", "cpu.max.burst"], fs.WrittenFiles(U));
    }

    [Fact]
    public void RealtimeIsRefusedOnV2()
    {
        var e = Rejected(new LinuxResources { Cpu = new LinuxCpu { RealtimeRuntime = 1000, RealtimePeriod = 10000 } });

        Assert.Equal("linux.resources.cpu.realtimeRuntime is set, but cgroup v2 has no real-time CPU limits (cpu.rt_runtime_us and cpu.rt_period_us are cgroup v1 only)", e.Message);
    }

    [Fact]
    public void IdleNeedsTheFile()
    {
        File.Delete(fs.File(U, "cpu.idle"));

        var e = Rejected(new LinuxResources { Cpu = new LinuxCpu { Idle = 1 } });

        Assert.Equal($"linux.resources.cpu.idle is set, but {fs.Dir(U)} has no cpu.idle (cpu.idle needs Linux 5.15 or later)", e.Message);
    }

    [Fact]
    public void CpusetListsAreWritten()
    {
        Apply(new LinuxResources { Cpu = new LinuxCpu { Cpus = "1", Mems = "0" } });

        Assert.Equal("1", fs.Read(U, "cpuset.cpus"));
        Assert.Equal("0", fs.Read(U, "cpuset.mems"));
        Assert.Equal("+cpuset", File.ReadAllText(TopFile("cgroup.subtree_control")));
    }

    // ---- pids ----

    [Theory]
    [InlineData(100L, "100")]
    [InlineData(0L, "max")]
    [InlineData(-1L, "max")]
    public void PidsLimit(long limit, string expected)
    {
        Apply(new LinuxResources { Pids = new LinuxPids { Limit = limit } });

        Assert.Equal(expected, fs.Read(U, "pids.max"));
    }

    // ---- io ----

    [Fact]
    public void WeightsAreConvertedForIoWeight()
    {
        Apply(new LinuxResources { BlockIo = new LinuxBlockIo { Weight = 500, WeightDevice = [new() { Major = 8, Minor = 0, Weight = 300 }] } });

        Assert.Equal(["default 4950", "8:0 2930"], fs.WritesTo(U, "io.weight"));
        Assert.Equal("+io", File.ReadAllText(TopFile("cgroup.subtree_control")));
    }

    [Fact]
    public void WeightsGoToIoBfqWeightUnconverted()
    {
        fs.Set(U, "io.bfq.weight", "default 100\n");

        Apply(new LinuxResources { BlockIo = new LinuxBlockIo { Weight = 500, WeightDevice = [new() { Major = 8, Minor = 0, Weight = 300 }] } });

        Assert.Equal(["500", "8:0 300"], fs.WritesTo(U, "io.bfq.weight"));
        Assert.Empty(fs.WritesTo(U, "io.weight"));
    }

    [Fact]
    public void AnOldBfqWithoutDeviceWeightsLeavesThemToIoWeight()
    {
        fs.Set(U, "io.bfq.weight", "100\n");

        Apply(new LinuxResources { BlockIo = new LinuxBlockIo { Weight = 500, WeightDevice = [new() { Major = 8, Minor = 0, Weight = 300 }] } });

        Assert.Equal(["500"], fs.WritesTo(U, "io.bfq.weight"));
        Assert.Equal(["8:0 2930"], fs.WritesTo(U, "io.weight"));
    }

    [Theory]
    [InlineData(10, 1)]
    [InlineData(1000, 10000)]
    [InlineData(100, 910)]
    public void BlkioWeightToIoWeight(ushort weight, ulong expected)
    {
        Assert.Equal(expected, ResourceWriter.BlkioWeightToIoWeight(weight));
    }

    [Fact]
    public void ThrottlesAreMergedIntoOneIoMaxLinePerDevice()
    {
        Apply(new LinuxResources
        {
            BlockIo = new LinuxBlockIo
            {
                ThrottleReadBpsDevice = [new() { Major = 8, Minor = 0, Rate = 1048576 }],
                ThrottleWriteBpsDevice = [new() { Major = 8, Minor = 0, Rate = 2097152 }],
                ThrottleReadIopsDevice = [new() { Major = 8, Minor = 16, Rate = 100 }],
                ThrottleWriteIopsDevice = [new() { Major = 8, Minor = 0, Rate = 0 }],
            },
        });

        Assert.Equal(["8:0 rbps=1048576 wbps=2097152 wiops=max", "8:16 riops=100"], fs.WritesTo(U, "io.max"));
    }

    [Fact]
    public void LeafWeightsAreRefused()
    {
        Assert.Equal("linux.resources.blockIO.leafWeight is set, but cgroup v2 has no leaf weights (blkio.leaf_weight is cgroup v1 with CFQ only)",
            Rejected(new LinuxResources { BlockIo = new LinuxBlockIo { LeafWeight = 100 } }).Message);
        Assert.Equal("linux.resources.blockIO.weightDevice[0].leafWeight is set, but cgroup v2 has no leaf weights",
            Rejected(new LinuxResources { BlockIo = new LinuxBlockIo { WeightDevice = [new() { Major = 8, Minor = 0, LeafWeight = 100 }] } }).Message);
    }

    // ---- hugetlb, rdma, network ----

    [Fact]
    public void HugepageLimitsSetMaxAndRsvdMax()
    {
        Apply(new LinuxResources { HugepageLimits = [new() { PageSize = "1GB", Limit = 1024 * M }] });

        Assert.Equal("1073741824", fs.Read(U, "hugetlb.1GB.max"));
        Assert.Equal("1073741824", fs.Read(U, "hugetlb.1GB.rsvd.max"));
    }

    [Fact]
    public void AnUnknownPageSizeIsRefused()
    {
        var e = Rejected(new LinuxResources { HugepageLimits = [new() { PageSize = "64KB", Limit = 1 }] });

        Assert.Equal($"linux.resources.hugepageLimits[0] is set, but {fs.Dir(U)} has no hugetlb.64KB.max (the kernel does not have huge pages of this size)", e.Message);
    }

    [Fact]
    public void RdmaMax()
    {
        Apply(new LinuxResources { Rdma = new() { ["mlx5_1"] = new LinuxRdma { HcaHandles = 3 } } });

        Assert.Equal("mlx5_1 hca_handle=3", fs.Read(U, "rdma.max"));
    }

    [Fact]
    public void NetworkIsRefusedOnV2()
    {
        Assert.Equal("linux.resources.network.classID is set, but cgroup v2 has no net_cls controller",
            Rejected(new LinuxResources { Network = new LinuxNetwork { ClassId = 1 } }).Message);
        Assert.Equal("linux.resources.network.priorities is set, but cgroup v2 has no net_prio controller",
            Rejected(new LinuxResources { Network = new LinuxNetwork { Priorities = [new() { Name = "eth0", Priority = 1 }] } }).Message);
    }

    [Fact]
    public void DeviceRulesAreCheckedOnV2()
    {
        fs.Writer().Validate(new LinuxResources { Devices = [new() { Allow = false }] }); // a program (DeviceProgramTests)

        var e = Rejected(new LinuxResources { Devices = [new() { Allow = false }, new() { Allow = true, Type = "u" }] });

        Assert.Equal("linux.resources.devices[1].type \"u\" is not one of a, c, b", e.Message);
    }

    // ---- unified ----

    [Fact]
    public void UnifiedKeysAreFilesAndEnableTheirController()
    {
        Apply(new LinuxResources { Unified = new() { ["memory.high"] = "1073741824", ["io.max"] = "259:0 rbps=2097152 wiops=120\n253:0 rbps=2097152 wiops=120" } });

        Assert.Equal("1073741824", fs.Read(U, "memory.high"));
        Assert.Equal(["259:0 rbps=2097152 wiops=120", "253:0 rbps=2097152 wiops=120"], fs.WritesTo(U, "io.max"));
        Assert.Equal("+io +memory", File.ReadAllText(TopFile("cgroup.subtree_control")));
    }

    [Fact]
    public void UnifiedIsWrittenAfterTheOtherFields()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 1000 }, Unified = new() { ["memory.max"] = "2000" } });

        Assert.Equal(["1000", "2000"], fs.WritesTo(U, "memory.max"));
    }

    [Fact]
    public void UnifiedCoreFilesNeedNoController()
    {
        Apply(new LinuxResources { Unified = new() { ["cgroup.max.depth"] = "2" } });

        Assert.Equal("2", fs.Read(U, "cgroup.max.depth"));
        Assert.Equal("\n", File.ReadAllText(TopFile("cgroup.subtree_control")));
    }

    [Fact]
    public void UnifiedKeyOfAControllerNotOfferedIsRefused()
    {
        using var small = FakeCgroupFs.V2("cpu memory");

        var e = Assert.Throws<RuntimeException>(() => small.Writer().Validate(new LinuxResources { Unified = new() { ["pids.max"] = "10" } }));

        Assert.Equal($"linux.resources.unified[\"pids.max\"] is set, but the pids controller is not available in {small.Mount(U)}/cgroup.controllers", e.Message);
    }

    [Fact]
    public void UnifiedKeyThatIsNotAFileIsRefused()
    {
        var e = Assert.Throws<RuntimeException>(() => Apply(new LinuxResources { Unified = new() { ["memory.nosuchfile"] = "1" } }));

        Assert.Equal($"linux.resources.unified[\"memory.nosuchfile\"] is set, but {fs.Dir(U)} has no memory.nosuchfile", e.Message);
        Assert.Empty(fs.Writes);
    }
}
