using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class ResourceWriterTests
{
    static ResourceWriter Writer(string mountinfo = CgroupHierarchyTests.HybridMountinfo) =>
        new(ContainerCgroup.For(new CgroupHost(CgroupHierarchy.Parse(mountinfo)), "/moat/x"));

    static RuntimeException Rejected(LinuxResources resources, string mountinfo = CgroupHierarchyTests.HybridMountinfo) =>
        Assert.Throws<RuntimeException>(() => Writer(mountinfo).Validate(resources));

    [Fact]
    public void DeviceRuleForAll()
    {
        Assert.Equal("a", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "a", Access = "rwm" }, 0));
        Assert.Equal("a", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Allow = false }, 0));
        Assert.Equal("a", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "", Major = 1, Minor = 3 }, 0));
    }

    [Fact]
    public void DeviceRuleWithNumbers()
    {
        Assert.Equal("c 1:3 rwm", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" }, 0));
        Assert.Equal("b 8:0 r", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "b", Major = 8, Minor = 0, Access = "r" }, 0));
    }

    [Fact]
    public void DeviceRuleWithoutNumbersUsesWildcards()
    {
        Assert.Equal("c *:* m", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "c", Access = "m" }, 0));
        Assert.Equal("c 136:* rw", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "c", Major = 136, Access = "rw" }, 0));
        Assert.Equal("b *:5 w", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "b", Minor = 5, Access = "w" }, 0));
        Assert.Equal("c *:* rwm", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "c", Major = -1, Minor = -1 }, 0));
    }

    [Fact]
    public void DeviceRuleDefaultAccessIsRwm()
    {
        Assert.Equal("c 10:200 rwm", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "c", Major = 10, Minor = 200 }, 0));
        Assert.Equal("c 10:200 rwm", ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "c", Major = 10, Minor = 200, Access = "" }, 0));
    }

    [Theory]
    [InlineData("u")]
    [InlineData("p")]
    [InlineData("C")]
    [InlineData("all")]
    public void DeviceRuleRejectsInvalidTypes(string type)
    {
        var e = Assert.Throws<RuntimeException>(() => ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = type }, 3));

        Assert.Contains("linux.resources.devices[3]", e.Message);
        Assert.Contains($"\"{type}\"", e.Message);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("rwx")]
    [InlineData("R")]
    [InlineData("r w")]
    public void DeviceRuleRejectsInvalidAccess(string access)
    {
        var e = Assert.Throws<RuntimeException>(() => ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "c", Major = 1, Minor = 3, Access = access }, 7));

        Assert.Contains("linux.resources.devices[7]", e.Message);
        Assert.Contains("access", e.Message);
    }

    [Fact]
    public void DeviceRuleRejectsInvalidAccessEvenForAll()
    {
        var e = Assert.Throws<RuntimeException>(() => ResourceWriter.DeviceRule(new LinuxDeviceCgroup { Type = "a", Access = "q" }, 0));

        Assert.Contains("linux.resources.devices[0]", e.Message);
    }

    [Theory]
    [InlineData(2UL, 1UL)]
    [InlineData(262144UL, 10000UL)]
    [InlineData(1024UL, 39UL)]
    [InlineData(0UL, 0UL)]
    [InlineData(1UL, 1UL)]
    [InlineData(262145UL, 10000UL)]
    [InlineData(1000000UL, 10000UL)]
    [InlineData(ulong.MaxValue, 10000UL)]
    public void SharesToWeight(ulong shares, ulong weight)
    {
        Assert.Equal(weight, ResourceWriter.SharesToWeight(shares));
    }

    [Fact]
    public void SharesToWeightStaysInTheKernelRange()
    {
        foreach (var shares in new ulong[] { 1, 2, 3, 100, 1024, 4096, 262143, 262144, 262145, 1UL << 40 })
            Assert.InRange(ResourceWriter.SharesToWeight(shares), 1UL, 10000UL);
    }

    [Fact]
    public void DefaultAllowedDevicesAreValidRules()
    {
        Assert.Contains("c 1:3 rwm", ResourceWriter.DefaultAllowedDevices);
        Assert.Contains("c 136:* rwm", ResourceWriter.DefaultAllowedDevices);
        Assert.All(ResourceWriter.DefaultAllowedDevices, rule => Assert.Matches(@"^[cb] (\d+|\*):(\d+|\*) [rwm]+$", rule));
    }

    [Fact]
    public void ValidateAcceptsNothingAndSupportedFields()
    {
        Writer().Validate(null);
        Writer().Validate(new LinuxResources());
        Writer().Validate(new LinuxResources
        {
            Devices = [new() { Allow = false, Access = "rwm" }, new() { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rw" }],
            Memory = new LinuxMemory { Limit = 100 << 20, Swap = 200 << 20, Reservation = 50 << 20, DisableOomKiller = false },
            Cpu = new LinuxCpu { Shares = 1024, Quota = 50000, Period = 100000, Cpus = "0-1", Mems = "0" },
            Pids = new LinuxPids { Limit = 100 },
            HugepageLimits = [],
            Rdma = [],
            Unified = [],
        });
    }

    [Fact]
    public void ValidateAcceptsUnlimitedSwapAndUnlimitedQuota()
    {
        Writer().Validate(new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 100 << 20, Swap = -1 },
            Cpu = new LinuxCpu { Quota = -1 },
        });
        Writer().Validate(new LinuxResources { Memory = new LinuxMemory { Limit = -1, Swap = 100 } });
    }

    [Fact]
    public void ValidateRejectsSwapBelowTheLimit()
    {
        var e = Rejected(new LinuxResources { Memory = new LinuxMemory { Limit = 200, Swap = 100 } });

        Assert.Contains("memory.swap", e.Message);
        Assert.Contains("100", e.Message);
        Assert.Contains("200", e.Message);
    }

    [Fact]
    public void ValidateRejectsQuotaWithoutPeriod()
    {
        Assert.Contains("cpu.quota", Rejected(new LinuxResources { Cpu = new LinuxCpu { Quota = 50000 } }).Message);
        Assert.Contains("cpu.period", Rejected(new LinuxResources { Cpu = new LinuxCpu { Quota = 50000, Period = 0 } }).Message);
    }

    // The fields this host description has no controller for (no blkio, net_cls, rdma hierarchy; a
    // unified mount without the memory controller). hugepageLimits, memory.kernel/kernelTCP/swappiness/
    // disableOOMKiller and cpu.realtime*/burst/idle are applied now: see tests/Moat.Tests.Unit/Cgroups.
    public static TheoryData<string, LinuxResources> UnsupportedFields => new()
    {
        { "linux.resources.blockIO", new LinuxResources { BlockIo = new LinuxBlockIo { Weight = 10 } } },
        { "linux.resources.network", new LinuxResources { Network = new LinuxNetwork { ClassId = 1 } } },
        { "linux.resources.rdma", new LinuxResources { Rdma = new() { ["mlx5_0"] = new LinuxRdma { HcaHandles = 1 } } } },
        { "linux.resources.unified", new LinuxResources { Unified = new() { ["memory.high"] = "1G" } } },
    };

    [Theory]
    [MemberData(nameof(UnsupportedFields))]
    public void ValidateRejectsUnsupportedFieldsByName(string field, LinuxResources resources)
    {
        var e = Rejected(resources);

        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void ValidateChecksEveryDeviceRuleOnV1()
    {
        var e = Rejected(new LinuxResources
        {
            Devices = [new() { Allow = false }, new() { Allow = true, Type = "z" }],
        });

        Assert.Contains("linux.resources.devices[1]", e.Message);
    }

    [Fact]
    public void ValidateChecksDeviceRulesOnPureV2()
    {
        // Device rules are applied on v2 now (an eBPF program); a bad rule is still refused by name.
        Writer(CgroupHierarchyTests.PureV2Mountinfo).Validate(new LinuxResources { Devices = [new() { Allow = false }] });
        var e = Rejected(new LinuxResources { Devices = [new() { Allow = false }, new() { Type = "z" }] }, CgroupHierarchyTests.PureV2Mountinfo);

        Assert.Contains("linux.resources.devices", e.Message);
    }

    [Fact]
    public void ValidateOnPureV2AcceptsEmptyDeviceList()
    {
        Writer(CgroupHierarchyTests.PureV2Mountinfo).Validate(new LinuxResources { Devices = [], Pids = new LinuxPids { Limit = 5 } });
    }
}
