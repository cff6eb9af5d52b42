using Moat.Runtime.Host;
using Xunit;

namespace Moat.Tests.Unit.Host;

public sealed class HostContextTests
{
    /// <summary>A host made of files given by the test, and kernel answers set by it.</summary>
    sealed class FakeProbe : IHostProbe
    {
        public Dictionary<string, string> Files { get; } = new();
        public int Landlock { get; set; }
        public bool Notify { get; set; } = true;
        public uint SupportedFlags { get; set; } = 0xff;
        public List<string> Reads { get; } = [];

        public string? ReadText(string path)
        {
            Reads.Add(path);
            return Files.GetValueOrDefault(path);
        }

        public bool Exists(string path) => Files.ContainsKey(path);
        public int LandlockAbi() => Landlock;
        public bool SeccompActionAvailable(uint action) => Notify;
        public bool SeccompFlagsSupported(uint flags) => (flags & ~SupportedFlags) == 0;
        public uint RealUid { get; set; }
        public uint EffectiveUid { get; set; }
        public string Architecture => "amd64";
    }

    const string HybridMountinfo = """
        30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
        33 30 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
        34 30 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids
        """;

    const string V2Mountinfo = "31 25 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw\n";

    [Theory]
    [InlineData(HybridMountinfo, CgroupLayout.Hybrid)]
    [InlineData(V2Mountinfo, CgroupLayout.V2)]
    [InlineData("33 30 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", CgroupLayout.V1)]
    [InlineData("", CgroupLayout.None)]
    public void CgroupLayoutFollowsTheMounts(string mountinfo, CgroupLayout expected)
    {
        var probe = new FakeProbe();
        probe.Files["/proc/self/mountinfo"] = mountinfo;
        Assert.Equal(expected, new HostContext(probe).CgroupLayout);
    }

    [Fact]
    public void FactsAreReadOnFirstUseAndOnce()
    {
        var probe = new FakeProbe();
        probe.Files["/proc/self/status"] = "Name:\tmoat\nCapEff:\t000001ffffffffff\nCapBnd:\t000001fffeffffff\n";
        var host = new HostContext(probe);
        Assert.Empty(probe.Reads);
        Assert.Equal(0x000001fffeffffffUL, host.BoundingCapabilities);
        Assert.Equal(0x000001ffffffffffUL, host.EffectiveCapabilities);
        Assert.Single(probe.Reads, "/proc/self/status");
    }

    [Fact]
    public void KernelFeaturesComeFromTheKernelsAnswers()
    {
        var probe = new FakeProbe { Landlock = 7, SupportedFlags = 0x0f };
        probe.Files["/proc/sys/kernel/osrelease"] = "6.18.0-1-amd64\n";
        probe.Files["/proc/sys/user/max_user_namespaces"] = "63000\n";
        probe.Files["/proc/self/ns/user"] = "";
        probe.Files["/proc/self/ns/time"] = "";
        probe.Files["/proc/filesystems"] = "nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\toverlay\n";
        var kernel = new HostContext(probe).Kernel;
        Assert.Equal(new Version(6, 18, 0), kernel.Version);
        Assert.Equal(7, kernel.LandlockAbi);
        Assert.True(kernel.SeccompUserNotification);
        Assert.Equal(["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_NEW_LISTENER"], kernel.SeccompFlags);
        Assert.True(kernel.UserNamespaces);
        Assert.True(kernel.TimeNamespaces);
        Assert.False(kernel.CgroupNamespaces);
        Assert.True(kernel.IdmappedMounts);
        Assert.True(kernel.Overlayfs);
    }

    [Fact]
    public void UserNamespacesAreOffWhenTheLimitIsZero()
    {
        var probe = new FakeProbe();
        probe.Files["/proc/self/ns/user"] = "";
        probe.Files["/proc/sys/user/max_user_namespaces"] = "0\n";
        Assert.False(new HostContext(probe).Kernel.UserNamespaces);
    }

    [Theory]
    [InlineData("6.1.0-28-amd64", 6, 1, 0)]
    [InlineData("5.15.167.4-microsoft-standard-WSL2", 5, 15, 167)]
    [InlineData("6.18", 6, 18, -1)]
    [InlineData("6.12-rc3", 6, 12, -1)]
    public void KernelReleasesParse(string release, int major, int minor, int build)
    {
        var expected = build < 0 ? new Version(major, minor) : new Version(major, minor, build);
        Assert.Equal(expected, KernelFeatures.ParseVersion(release));
    }

    [Fact]
    public void TheOwnerIsTheRealCallerNamedFromPasswd()
    {
        var probe = new FakeProbe { RealUid = 1000, EffectiveUid = 1000 };
        probe.Files["/proc/self/uid_map"] = "         0          0 4294967295\n";
        probe.Files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        var identity = new HostContext(probe).Identity;
        Assert.Equal("alice", identity.UserName);
        Assert.False(identity.IsRoot);
        Assert.False(identity.InUserNamespace);
    }

    [Fact]
    public void RootInAUserNamespaceIsTheUserWhoMadeIt()
    {
        var probe = new FakeProbe { RealUid = 0, EffectiveUid = 0 };
        probe.Files["/proc/self/uid_map"] = "         0       1000          1\n";
        probe.Files["/etc/passwd"] = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        var identity = new HostContext(probe).Identity;
        Assert.Equal(1000u, identity.HostUid);
        Assert.Equal("alice", identity.UserName);
        Assert.True(identity.IsRoot);
        Assert.True(identity.InUserNamespace);
    }

    [Fact]
    public void AUserWithoutAPasswdEntryIsNamedByNumber()
    {
        var probe = new FakeProbe { RealUid = 4242 };
        Assert.Equal("4242", new HostContext(probe).Identity.UserName);
    }

    [Fact]
    public void LsmsAreListedInTheKernelsOrder()
    {
        var probe = new FakeProbe();
        probe.Files["/sys/kernel/security/lsm"] = "lockdown,capability,landlock,yama,bpf";
        var host = new HostContext(probe);
        Assert.Equal(["lockdown", "capability", "landlock", "yama", "bpf"], host.Lsms);
        Assert.False(host.AppArmor);
        Assert.False(host.Selinux);
    }

    [Fact]
    public void WithoutSecurityfsTheLsmListIsUnknownNotEmpty() => Assert.Null(new HostContext(new FakeProbe()).Lsms);
}
