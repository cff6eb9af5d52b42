using Moat.Oci;
using Moat.Runtime;
using Xunit;

namespace Moat.Tests.Unit.Cgroups;

/// <summary>
/// Every value Validate refuses, with its exact message, on v1 and on v2; a refused value is also
/// refused by Apply before anything is written (not even cgroup.subtree_control).
/// </summary>
public sealed class ResourceValidationTests
{
    static LinuxResources R(Action<LinuxResources> set) => FakeCgroupFs.Resources(set);

    /// <summary>Refused the same way on both versions.</summary>
    public static TheoryData<string, LinuxResources> InvalidEverywhere => new()
    {
        { "linux.resources.memory.limit (-2) must be -1 (unlimited) or a number of bytes", R(r => r.Memory = new LinuxMemory { Limit = -2 }) },
        { "linux.resources.memory.reservation (-5) must be -1 (unlimited) or a number of bytes", R(r => r.Memory = new LinuxMemory { Reservation = -5 }) },
        { "linux.resources.memory.swap (-3) must be -1 (unlimited) or a number of bytes", R(r => r.Memory = new LinuxMemory { Limit = 10, Swap = -3 }) },
        { "linux.resources.memory.kernelTCP (-2) must be -1 (unlimited) or a number of bytes", R(r => r.Memory = new LinuxMemory { KernelTcp = -2 }) },
        { "linux.resources.memory.swap (100) must not be below memory.limit (200): swap is the limit of memory plus swap", R(r => r.Memory = new LinuxMemory { Limit = 200, Swap = 100 }) },
        { "linux.resources.memory.swappiness (101) must be between 0 and 100", R(r => r.Memory = new LinuxMemory { Swappiness = 101 }) },
        { "linux.resources.cpu.quota (500) must be -1 (unlimited) or at least 1000 microseconds", R(r => r.Cpu = new LinuxCpu { Quota = 500, Period = 100000 }) },
        { "linux.resources.cpu.quota (-2) must be -1 (unlimited) or at least 1000 microseconds", R(r => r.Cpu = new LinuxCpu { Quota = -2 }) },
        { "linux.resources.cpu.period (999) must be between 1000 and 1000000 microseconds", R(r => r.Cpu = new LinuxCpu { Period = 999 }) },
        { "linux.resources.cpu.period (1000001) must be between 1000 and 1000000 microseconds", R(r => r.Cpu = new LinuxCpu { Period = 1000001 }) },
        { "linux.resources.cpu.quota is set without cpu.period", R(r => r.Cpu = new LinuxCpu { Quota = 50000 }) },
        { "linux.resources.cpu.burst (60000) must not be larger than cpu.quota (50000)", R(r => r.Cpu = new LinuxCpu { Quota = 50000, Period = 100000, Burst = 60000 }) },
        { "linux.resources.cpu.realtimeRuntime (-2) must be -1 (unlimited) or a number of microseconds", R(r => r.Cpu = new LinuxCpu { RealtimeRuntime = -2 }) },
        { "linux.resources.cpu.realtimeRuntime (2000) must not be larger than cpu.realtimePeriod (1000)", R(r => r.Cpu = new LinuxCpu { RealtimeRuntime = 2000, RealtimePeriod = 1000 }) },
        { "linux.resources.cpu.idle (2) must be 0 or 1", R(r => r.Cpu = new LinuxCpu { Idle = 2 }) },
        { "linux.resources.cpu.idle (-1) must be 0 or 1", R(r => r.Cpu = new LinuxCpu { Idle = -1 }) },
        { "linux.resources.cpu.cpus \"0-\" is not a list of numbers and ranges such as \"0-3,7\"", R(r => r.Cpu = new LinuxCpu { Cpus = "0-" }) },
        { "linux.resources.cpu.cpus \"3-1\" is not a list of numbers and ranges such as \"0-3,7\"", R(r => r.Cpu = new LinuxCpu { Cpus = "3-1" }) },
        { "linux.resources.cpu.cpus \"0,,1\" is not a list of numbers and ranges such as \"0-3,7\"", R(r => r.Cpu = new LinuxCpu { Cpus = "0,,1" }) },
        { "linux.resources.cpu.mems \"all\" is not a list of numbers and ranges such as \"0-3,7\"", R(r => r.Cpu = new LinuxCpu { Mems = "all" }) },
        { "linux.resources.blockIO.weight (5) must be between 10 and 1000", R(r => r.BlockIo = new LinuxBlockIo { Weight = 5 }) },
        { "linux.resources.blockIO.weight (1001) must be between 10 and 1000", R(r => r.BlockIo = new LinuxBlockIo { Weight = 1001 }) },
        { "linux.resources.blockIO.leafWeight (9) must be between 10 and 1000", R(r => r.BlockIo = new LinuxBlockIo { LeafWeight = 9 }) },
        { "linux.resources.blockIO.weightDevice[0] must set weight or leafWeight", R(r => r.BlockIo = new LinuxBlockIo { WeightDevice = [new() { Major = 8, Minor = 0 }] }) },
        { "linux.resources.blockIO.weightDevice[1].weight (2000) must be between 10 and 1000", R(r => r.BlockIo = new LinuxBlockIo { WeightDevice = [new() { Major = 8, Minor = 0, Weight = 100 }, new() { Major = 8, Minor = 16, Weight = 2000 }] }) },
        { "linux.resources.blockIO.weightDevice[0]: major and minor (-1:0) must not be negative", R(r => r.BlockIo = new LinuxBlockIo { WeightDevice = [new() { Major = -1, Minor = 0, Weight = 100 }] }) },
        { "linux.resources.blockIO.throttleWriteIOPSDevice[0]: major and minor (8:-1) must not be negative", R(r => r.BlockIo = new LinuxBlockIo { ThrottleWriteIopsDevice = [new() { Major = 8, Minor = -1, Rate = 1 }] }) },
        { "linux.resources.hugepageLimits[0].pageSize \"2M\" is not a size such as 64KB, 2MB or 1GB", R(r => r.HugepageLimits = [new() { PageSize = "2M", Limit = 1 }]) },
        { "linux.resources.hugepageLimits[1].pageSize \"\" is not a size such as 64KB, 2MB or 1GB", R(r => r.HugepageLimits = [new() { PageSize = "2MB", Limit = 1 }, new() { PageSize = "", Limit = 1 }]) },
        { "linux.resources.hugepageLimits[0].pageSize \"2mb\" is not a size such as 64KB, 2MB or 1GB", R(r => r.HugepageLimits = [new() { PageSize = "2mb", Limit = 1 }]) },
        { "linux.resources.hugepageLimits[0].pageSize \"02MB\" is not a size such as 64KB, 2MB or 1GB", R(r => r.HugepageLimits = [new() { PageSize = "02MB", Limit = 1 }]) },
        { "linux.resources.network.priorities[0].name \"\" is not a network interface name", R(r => r.Network = new LinuxNetwork { Priorities = [new() { Name = "", Priority = 1 }] }) },
        { "linux.resources.network.priorities[0].name \"eth 0\" is not a network interface name", R(r => r.Network = new LinuxNetwork { Priorities = [new() { Name = "eth 0", Priority = 1 }] }) },
        { "linux.resources.network.priorities[0].name \"abcdefghijklmnop\" is not a network interface name", R(r => r.Network = new LinuxNetwork { Priorities = [new() { Name = "abcdefghijklmnop", Priority = 1 }] }) },
        { "linux.resources.rdma[\"mlx5_0\"] must set hcaHandles or hcaObjects", R(r => r.Rdma = new() { ["mlx5_0"] = new LinuxRdma() }) },
        { "linux.resources.rdma: \"mlx5 0\" is not an RDMA device name", R(r => r.Rdma = new() { ["mlx5 0"] = new LinuxRdma { HcaHandles = 1 } }) },
        { "linux.resources.devices[1].type \"z\" is not one of a, c, b", R(r => r.Devices = [new() { Allow = false }, new() { Allow = true, Type = "z" }]) },
    };

    /// <summary>Keys of linux.resources.unified that are not file names (a v2 host and a hybrid one).</summary>
    public static TheoryData<string, LinuxResources> InvalidUnifiedKeys => new()
    {
        { "linux.resources.unified[\"../memory.max\"]: a key must be the name of a file in the container's cgroup directory (no '/', no \"..\")", R(r => r.Unified = new() { ["../memory.max"] = "1" }) },
        { "linux.resources.unified[\"memory/max\"]: a key must be the name of a file in the container's cgroup directory (no '/', no \"..\")", R(r => r.Unified = new() { ["memory/max"] = "1" }) },
        { "linux.resources.unified[\"..\"]: a key must be the name of a file in the container's cgroup directory (no '/', no \"..\")", R(r => r.Unified = new() { [".."] = "1" }) },
        { "linux.resources.unified[\"\"]: a key must be the name of a file in the container's cgroup directory (no '/', no \"..\")", R(r => r.Unified = new() { [""] = "1" }) },
        { "linux.resources.unified[\"memory max\"]: a key must be the name of a file in the container's cgroup directory (no '/', no \"..\")", R(r => r.Unified = new() { ["memory max"] = "1" }) },
        { "linux.resources.unified[\"nodot\"]: a key must have the form CONTROLLER.PARAMETER, such as memory.high", R(r => r.Unified = new() { ["nodot"] = "1" }) },
        { "linux.resources.unified[\"memory.\"]: a key must have the form CONTROLLER.PARAMETER, such as memory.high", R(r => r.Unified = new() { ["memory."] = "1" }) },
        { "linux.resources.unified[\".max\"]: a key must have the form CONTROLLER.PARAMETER, such as memory.high", R(r => r.Unified = new() { [".max"] = "1" }) },
    };

    [Theory]
    [MemberData(nameof(InvalidEverywhere))]
    public void RefusedOnV1(string message, LinuxResources resources) => AssertRefused(FakeCgroupFs.V1(), message, resources);

    [Theory]
    [MemberData(nameof(InvalidEverywhere))]
    [MemberData(nameof(InvalidUnifiedKeys))]
    public void RefusedOnHybrid(string message, LinuxResources resources) => AssertRefused(FakeCgroupFs.V1("hugetlb", "hugetlb"), message, resources);

    [Theory]
    [MemberData(nameof(InvalidUnifiedKeys))]
    public void RefusedOnV2(string message, LinuxResources resources) => AssertRefused(FakeCgroupFs.V2(), message, resources);

    [Theory]
    [MemberData(nameof(InvalidEverywhere))]
    public void RefusedOnV2Too(string message, LinuxResources resources)
    {
        // Network is refused on v2 for another reason (no such controller), checked elsewhere.
        if (resources.Network is not null)
            return;
        AssertRefused(FakeCgroupFs.V2(), message, resources);
    }

    static void AssertRefused(FakeCgroupFs fs, string message, LinuxResources resources)
    {
        using (fs)
        {
            Assert.Equal(message, Assert.Throws<RuntimeException>(() => fs.Writer().Validate(resources)).Message);
            Assert.Equal(message, Assert.Throws<RuntimeException>(() => fs.Writer().Apply(resources)).Message);
            Assert.Empty(fs.Writes);
        }
    }

    [Fact]
    public void UpdateAllowsAQuotaWithoutPeriod()
    {
        using var fs = FakeCgroupFs.V1();

        fs.Writer().Update(R(r => r.Cpu = new LinuxCpu { Quota = 50000 }));

        Assert.Equal("50000", fs.Read("cpu,cpuacct", "cpu.cfs_quota_us"));
    }

    [Fact]
    public void ValidatedFieldsPassOnBothVersions()
    {
        var good = R(r =>
        {
            r.Memory = new LinuxMemory { Limit = 100 << 20, Swap = 200 << 20, Reservation = 50 << 20 };
            r.Cpu = new LinuxCpu { Shares = 1024, Quota = 50000, Period = 100000, Burst = 50000, Cpus = "0-1", Mems = "0" };
            r.Pids = new LinuxPids { Limit = 100 };
            r.BlockIo = new LinuxBlockIo { Weight = 10, WeightDevice = [new() { Major = 8, Minor = 0, Weight = 1000 }], ThrottleReadBpsDevice = [new() { Major = 8, Minor = 0, Rate = 1 }] };
            r.HugepageLimits = [new() { PageSize = "2MB", Limit = 2 << 20 }];
            r.Rdma = new() { ["mlx5_0"] = new LinuxRdma { HcaObjects = 1 } };
        });
        using var v1 = FakeCgroupFs.V1();
        using var v2 = FakeCgroupFs.V2();

        v1.Writer().Validate(good);
        v2.Writer().Validate(good);
        Assert.Empty(v1.Writes);
        Assert.Empty(v2.Writes);
    }
}
