using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class CgroupHierarchyTests
{
    internal const string HybridMountinfo = """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
        23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,cpu,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
        37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        50 22 0:50 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw

        """;

    internal const string PureV2Mountinfo = """
        22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
        24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
        30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        26 22 0:5 / /dev rw,nosuid,relatime shared:3 - devtmpfs udev rw,size=8000000k,nr_inodes=2000000,mode=755
        """;

    [Fact]
    public void ParsesAHybridHost()
    {
        var hierarchies = CgroupHierarchy.Parse(HybridMountinfo);

        Assert.Equal(
            ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/devices",
             "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"],
            hierarchies.Select(h => h.MountPoint));
        Assert.All(hierarchies, h => Assert.Equal("/", h.Root));
    }

    [Fact]
    public void OptionalFieldsBeforeTheDashAreSkipped()
    {
        var cpu = CgroupHierarchy.Parse(HybridMountinfo)[0];

        Assert.False(cpu.IsV2);
        Assert.Equal(["cpu", "cpuacct"], cpu.Controllers);
        Assert.True(cpu.Has("cpu"));
        Assert.True(cpu.Has("cpuacct"));
        Assert.False(cpu.Has("memory"));
    }

    [Fact]
    public void MountOptionsAreNotControllers()
    {
        var hierarchies = CgroupHierarchy.Parse(HybridMountinfo);

        Assert.Equal(["cpuset"], hierarchies.Single(h => h.MountPoint.EndsWith("/cpuset")).Controllers);
        Assert.Equal(["name=systemd"], hierarchies.Single(h => h.MountPoint.EndsWith("/systemd")).Controllers);
    }

    [Fact]
    public void HybridHostIsNotPureV2()
    {
        var host = new CgroupHost(CgroupHierarchy.Parse(HybridMountinfo));

        Assert.False(host.IsPureV2);
        Assert.Equal("/sys/fs/cgroup/unified", host.Unified?.MountPoint);
        Assert.True(host.Unified!.IsV2);
        Assert.Equal("/sys/fs/cgroup/memory", host.V1("memory")?.MountPoint);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", host.V1("cpu")?.MountPoint);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", host.V1("cpuacct")?.MountPoint);
        Assert.Equal("/sys/fs/cgroup/pids", host.V1("pids")?.MountPoint);
        Assert.Null(host.V1("blkio"));
        Assert.Null(host.V1("hugetlb"));
    }

    [Fact]
    public void ParsesAPureV2Host()
    {
        var hierarchies = CgroupHierarchy.Parse(PureV2Mountinfo);
        var host = new CgroupHost(hierarchies);

        var unified = Assert.Single(hierarchies);
        Assert.True(unified.IsV2);
        Assert.Equal("/sys/fs/cgroup", unified.MountPoint);
        Assert.Empty(unified.Controllers);
        Assert.True(host.IsPureV2);
        Assert.Same(unified, host.Unified);
        Assert.Null(host.V1("memory"));
    }

    [Fact]
    public void NoCgroupMountsMeansNeitherV1NorV2()
    {
        var host = new CgroupHost(CgroupHierarchy.Parse("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"));

        Assert.Empty(host.Hierarchies);
        Assert.False(host.IsPureV2);
        Assert.Null(host.Unified);
    }

    [Fact]
    public void AHierarchyMountedTwiceIsKeptOnce()
    {
        var text = """
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            90 22 0:32 /docker/abc /var/lib/other/memory rw,relatime - cgroup cgroup rw,memory
            """;

        var memory = Assert.Single(CgroupHierarchy.Parse(text));
        Assert.Equal("/sys/fs/cgroup/memory", memory.MountPoint);
    }

    [Fact]
    public void RootAndEscapedMountPointAreRead()
    {
        var text = @"60 22 0:32 /docker/abc /mnt/my\040cgroups rw - cgroup cgroup rw,memory";

        var h = Assert.Single(CgroupHierarchy.Parse(text));
        Assert.Equal("/mnt/my cgroups", h.MountPoint);
        Assert.Equal("/docker/abc", h.Root);
    }

    [Fact]
    public void AHierarchyCoveredByALaterMountIsNotUsed()
    {
        // The unified mount hidden under a tmpfs (as bench/ does for crun): its path shows the tmpfs.
        var text = """
            35 31 0:30 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
            36 31 0:31 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids
            90 35 0:60 / /sys/fs/cgroup/unified rw - tmpfs none rw
            """;

        var h = Assert.Single(CgroupHierarchy.Parse(text));
        Assert.Equal("/sys/fs/cgroup/pids", h.MountPoint);
    }

    [Fact]
    public void MalformedLinesAreSkipped()
    {
        var text = "garbage\n1 2 3 - cgroup cgroup rw,memory\n35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup\n";

        Assert.Empty(CgroupHierarchy.Parse(text));
    }

    [Fact]
    public void DirectoryForJoinsMountPointAndPath()
    {
        var memory = new CgroupHierarchy("/sys/fs/cgroup/memory", "/", false, ["memory"]);
        var withSlash = new CgroupHierarchy("/sys/fs/cgroup/", "/", true, []);

        Assert.Equal("/sys/fs/cgroup/memory/moat/x", memory.DirectoryFor("/moat/x"));
        Assert.Equal("/sys/fs/cgroup/moat/x", withSlash.DirectoryFor("/moat/x"));
    }

    [Fact]
    public void ResolvePathWithoutAPathUsesTheId()
    {
        Assert.Equal("/moat/abc", CgroupHost.ResolvePath(null, "abc"));
        Assert.Equal("/moat/abc", CgroupHost.ResolvePath("", "abc"));
    }

    [Theory]
    [InlineData("/a/b", "/a/b")]
    [InlineData("/a//b/", "/a/b")]
    [InlineData("/kubepods/pod1/c1", "/kubepods/pod1/c1")]
    public void ResolvePathKeepsAbsolutePaths(string given, string expected)
    {
        Assert.Equal(expected, CgroupHost.ResolvePath(given, "abc"));
    }

    [Theory]
    [InlineData("rel", "/moat/rel")]
    [InlineData("a/b", "/moat/a/b")]
    [InlineData("a//b/", "/moat/a/b")]
    public void ResolvePathPutsRelativePathsUnderMoat(string given, string expected)
    {
        Assert.Equal(expected, CgroupHost.ResolvePath(given, "abc"));
    }

    [Fact]
    public void ResolvePathRejectsDotAndTheHierarchyRoot()
    {
        Assert.Contains("\".\"", Assert.Throws<RuntimeException>(() => CgroupHost.ResolvePath(".", "abc")).Message);
        Assert.Contains("root of the hierarchy", Assert.Throws<RuntimeException>(() => CgroupHost.ResolvePath("/", "abc")).Message);
        Assert.Contains("root of the hierarchy", Assert.Throws<RuntimeException>(() => CgroupHost.ResolvePath("//", "abc")).Message);
    }

    [Fact]
    public void ResolvePathRejectsTheSystemdForm()
    {
        var e = Assert.Throws<RuntimeException>(() => CgroupHost.ResolvePath("a.slice:b:c", "abc"));

        Assert.Contains("systemd", e.Message);
        Assert.Contains("a.slice:b:c", e.Message);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../escape")]
    [InlineData("/a/../../b")]
    [InlineData("a/..")]
    public void ResolvePathRejectsDotDot(string given)
    {
        var e = Assert.Throws<RuntimeException>(() => CgroupHost.ResolvePath(given, "abc"));

        Assert.Contains("..", e.Message);
    }
}
