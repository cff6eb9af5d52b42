using Moat.Oci;
using Moat.Runtime;
using Xunit;

namespace Moat.Tests.Unit.Cgroups;

/// <summary>A v1 host with a cgroup2 mount beside it that holds the hugetlb controller (no v1 hugetlb hierarchy).</summary>
public sealed class ResourceWriterHybridTests : IDisposable
{
    readonly FakeCgroupFs fs = FakeCgroupFs.V1("hugetlb", "hugetlb");

    public void Dispose() => fs.Dispose();

    void Apply(LinuxResources r)
    {
        var writer = fs.Writer();
        writer.Validate(r);
        writer.Apply(r);
    }

    [Fact]
    public void HugepageLimitsUseTheUnifiedHierarchyWhenNoV1HierarchyHasHugetlb()
    {
        Apply(new LinuxResources { HugepageLimits = [new() { PageSize = "2MB", Limit = 2097152 }] });

        Assert.Equal("2097152", fs.Read("unified", "hugetlb.2MB.max"));
        Assert.Equal("2097152", fs.Read("unified", "hugetlb.2MB.rsvd.max"));
        // The controller is enabled from the top of the cgroup2 mount down to the container's parent.
        Assert.Equal("+hugetlb", File.ReadAllText(Path.Combine(fs.Mount("unified"), "cgroup.subtree_control")));
        Assert.Equal("+hugetlb", File.ReadAllText(Path.Combine(fs.Mount("unified"), "moat", "cgroup.subtree_control")));
        Assert.Equal("\n", fs.Read("unified", "cgroup.subtree_control"));
    }

    [Fact]
    public void OtherFieldsStayOnV1()
    {
        Apply(new LinuxResources { Memory = new LinuxMemory { Limit = 1 << 30 }, Pids = new LinuxPids { Limit = 9 } });

        Assert.Equal("1073741824", fs.Read("memory", "memory.limit_in_bytes"));
        Assert.Equal("9", fs.Read("pids", "pids.max"));
        Assert.DoesNotContain(fs.Writes, w => w.Path.StartsWith(fs.Mount("unified"), StringComparison.Ordinal));
    }

    [Fact]
    public void UnifiedKeysOfAnOfferedControllerAreWritten()
    {
        Apply(new LinuxResources { Unified = new() { ["hugetlb.1GB.max"] = "1073741824", ["cgroup.max.depth"] = "3" } });

        Assert.Equal("1073741824", fs.Read("unified", "hugetlb.1GB.max"));
        Assert.Equal("3", fs.Read("unified", "cgroup.max.depth"));
    }

    [Fact]
    public void UnifiedKeysOfAControllerHeldByV1AreRefused()
    {
        var e = Assert.Throws<RuntimeException>(() => fs.Writer().Validate(new LinuxResources { Unified = new() { ["memory.high"] = "1G" } }));

        Assert.Equal($"linux.resources.unified[\"memory.high\"] is set, but the memory controller is not available in {fs.Mount("unified")}/cgroup.controllers (on a host with cgroup v1, only the controllers that no v1 hierarchy holds are in cgroup v2)", e.Message);
    }

    [Fact]
    public void UnifiedKeysNeedTheFile()
    {
        var e = Assert.Throws<RuntimeException>(() => Apply(new LinuxResources { Unified = new() { ["hugetlb.16MB.max"] = "1" } }));

        Assert.Equal($"linux.resources.unified[\"hugetlb.16MB.max\"] is set, but {fs.Dir("unified")} has no hugetlb.16MB.max (the kernel does not have huge pages of this size)", e.Message);
    }

    [Fact]
    public void BlockIoWithNeitherV1NorV2ControllerIsRefused()
    {
        using var bare = FakeCgroupFs.V1("hugetlb", "hugetlb", "blkio");

        var e = Assert.Throws<RuntimeException>(() => bare.Writer().Validate(new LinuxResources { BlockIo = new LinuxBlockIo { Weight = 100 } }));

        Assert.Equal($"linux.resources.blockIO.weight is set, but the host has no blkio cgroup hierarchy, and its cgroup v2 mount {bare.Mount("unified")} does not offer the io controller", e.Message);
    }
}
