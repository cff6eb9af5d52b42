using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Protocol;
using Moat.Runtime;
using Moat.Runtime.Create;
using Moat.Runtime.Rootfs;
using Xunit;

namespace Moat.Tests.Unit.Rootfs;

/// <summary>The rootfs plans of representative configs, step by step, without root.</summary>
public class RootfsPlannerTests
{
    const string Bundle = "/b";
    const string RootfsPath = "/b/rootfs";

    /// <summary>A cgroup v1 host: the container's directory in each hierarchy.</summary>
    static readonly List<CgroupMountSource> V1Hierarchies =
    [
        new() { Name = "memory", Directory = "/sys/fs/cgroup/memory/moat/c1" },
        new() { Name = "cpu,cpuacct", Directory = "/sys/fs/cgroup/cpu,cpuacct/moat/c1" },
    ];

    sealed class FakeHostFacts(bool hasKcore = true, string mountPoint = "/b") : IRootfsHostFacts
    {
        public List<string> Asked { get; } = [];

        public bool HasKcore
        {
            get
            {
                Asked.Add("kcore");
                return hasKcore;
            }
        }

        public string MountPointOf(string path)
        {
            Asked.Add("mount point of " + path);
            return mountPoint;
        }
    }

    static InitMessage Message(Spec spec, List<CgroupMountSource>? hierarchies = null) => new()
    {
        Id = "c1",
        Spec = spec,
        Bundle = Bundle,
        Rootfs = RootfsPath,
        CgroupHierarchies = hierarchies ?? V1Hierarchies,
    };

    static RootfsPlan Plan(InitMessage init, IRootfsHostFacts? host = null) =>
        RootfsPlanner.Plan(init, NamespacePlan.From(init.Spec.Linux), host ?? new FakeHostFacts());

    static Spec WithUserNamespace(Spec spec)
    {
        spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.User });
        return spec;
    }

    // What every container with a mount namespace starts with, and the /dev every container gets.
    static readonly string[] Start =
    [
        "umask 0",
        "propagation / slave,rec",
        "propagation /b private",
        "host mount /b/rootfs on /b/rootfs type bind bind,rec",
        "open root /b/rootfs",
    ];

    static readonly string[] DefaultDevices =
    [
        "mknod /dev/null c 1:3 666 0:0",
        "mknod /dev/zero c 1:5 666 0:0",
        "mknod /dev/full c 1:7 666 0:0",
        "mknod /dev/random c 1:8 666 0:0",
        "mknod /dev/urandom c 1:9 666 0:0",
        "mknod /dev/tty c 5:0 666 0:0",
    ];

    static readonly string[] DevLinks =
    [
        "symlink /dev/fd -> /proc/self/fd",
        "symlink /dev/stdin -> /proc/self/fd/0",
        "symlink /dev/stdout -> /proc/self/fd/1",
        "symlink /dev/stderr -> /proc/self/fd/2",
        "symlink /dev/core -> /proc/kcore",
    ];

    static readonly string[] V1CgroupTree =
    [
        "checkpoint CgroupPlacement",
        "mount tmpfs tmpfs on /sys/fs/cgroup nosuid,nodev,noexec data mode=755",
        "skip 1 unless dir /sys/fs/cgroup/memory/moat/c1",
        "bind /sys/fs/cgroup/memory/moat/c1 on /sys/fs/cgroup/memory onto dir remount ro,nosuid,nodev,noexec",
        "skip 3 unless dir /sys/fs/cgroup/cpu,cpuacct/moat/c1",
        "bind /sys/fs/cgroup/cpu,cpuacct/moat/c1 on /sys/fs/cgroup/cpu,cpuacct onto dir remount ro,nosuid,nodev,noexec",
        "symlink /sys/fs/cgroup/cpu -> cpu,cpuacct",
        "symlink /sys/fs/cgroup/cpuacct -> cpu,cpuacct",
        "remount in root /sys/fs/cgroup ro,nosuid,nodev,noexec,remount,bind",
    ];

    static readonly string[] DefaultMasksAndReadonly =
    [
        "mask /proc/acpi", "mask /proc/asound", "mask /proc/interrupts", "mask /proc/kcore", "mask /proc/keys", "mask /proc/latency_stats",
        "mask /proc/timer_list", "mask /proc/timer_stats", "mask /proc/sched_debug", "mask /sys/firmware", "mask /proc/scsi",
        "mask /sys/devices/virtual/powercap",
        "readonly /proc/bus", "readonly /proc/fs", "readonly /proc/irq", "readonly /proc/sys", "readonly /proc/sysrq-trigger",
    ];

    [Fact]
    public void TheDefaultConfigOnACgroupV1Host()
    {
        var plan = Plan(Message(DefaultSpec.Create(rootless: false)));

        string[] expected =
        [
            .. Start,
            "mount proc proc on /proc 0",
            "mount tmpfs tmpfs on /dev nosuid,strictatime data mode=755,size=65536k",
            "mount devpts devpts on /dev/pts nosuid,noexec data newinstance,ptmxmode=0666,mode=0620,gid=5",
            "mount tmpfs shm on /dev/shm nosuid,nodev,noexec data mode=1777,size=65536k",
            "mount mqueue mqueue on /dev/mqueue nosuid,nodev,noexec else(errno 1) bind /dev/mqueue",
            "mount sysfs sysfs on /sys ro,nosuid,nodev,noexec else(errno 1) bind rec /sys remount ro,nosuid,nodev,noexec,remount,bind",
            .. V1CgroupTree,
            .. DefaultDevices,
            .. DevLinks,
            "symlink /dev/ptmx -> pts/ptmx replace",
            "mkdir /",
            "checkpoint BeforePivot",
            "pivot_root /b/rootfs",
        ];
        Assert.Equal(expected, PlanText.Of(plan.Setup));
        Assert.Equal([.. DefaultMasksAndReadonly, "remount / ro,remount,bind"], PlanText.Of(plan.Finish));
    }

    [Fact]
    public void StepsNameTheFieldTheyCarryOut()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229 }];

        var plan = Plan(Message(spec));

        Assert.Equal("mounts[3]", plan.Setup.Single(s => s.Destination == "/dev/shm").Origin.ToString());
        Assert.All(plan.Setup.Where(s => s.Destination.StartsWith("/sys/fs/cgroup", StringComparison.Ordinal)), s => Assert.Equal("mounts[6]", s.Origin.ToString()));
        Assert.Equal("/dev", plan.Setup.Single(s => s.Destination == "/dev/null").Origin.ToString());
        Assert.Equal("linux.devices[0]", plan.Setup.Single(s => s.Destination == "/dev/fuse").Origin.ToString());
        Assert.Equal("process.cwd", plan.Setup.OfType<MakeDirectory>().Single().Origin.ToString());
        Assert.Equal("linux.maskedPaths[3]", plan.Finish.Single(s => s.Destination == "/proc/kcore").Origin.ToString());
        Assert.Equal("linux.readonlyPaths[3]", plan.Finish.Single(s => s.Destination == "/proc/sys").Origin.ToString());
        Assert.Equal("root.readonly", plan.Finish.OfType<Remount>().Single().Origin.ToString());
    }

    [Fact]
    public void APureCgroupV2HostGetsCgroup2WithItsOwnDirectoryAsTheFallback()
    {
        var plan = Plan(Message(DefaultSpec.Create(rootless: false), [new() { Name = "", Directory = "/sys/fs/cgroup/moat/c1", IsV2 = true }]));

        var cgroup = PlanText.Of(plan.Setup.Where(s => s.Origin == new StepOrigin("mounts", 6)));
        Assert.Equal(
        [
            "checkpoint CgroupPlacement",
            "mount cgroup2 cgroup2 on /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime else(errno 0) bind rec /sys/fs/cgroup/moat/c1 remount ro,nosuid,nodev,noexec,remount,bind,relatime",
        ], cgroup);
    }

    /// <summary>What docker (through runc's config) asks: binds of its own files with rprivate, /dev/shm from the host, a device.</summary>
    [Fact]
    public void ADockerLikeConfig()
    {
        const string Store = "/var/lib/docker/containers/abc";
        var spec = DefaultSpec.Create(rootless: false);
        spec.Root!.Readonly = false;
        spec.Mounts =
        [
            new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
            new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            new() { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
            new() { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["ro", "nosuid", "noexec", "nodev"] },
            new() { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
            new() { Destination = "/dev/shm", Type = "bind", Source = $"{Store}/mounts/shm", Options = ["rbind", "nosuid", "noexec", "nodev"] },
            new() { Destination = "/etc/resolv.conf", Type = "bind", Source = $"{Store}/resolv.conf", Options = ["rbind", "rprivate"] },
            new() { Destination = "/etc/hosts", Type = "bind", Source = $"{Store}/hosts", Options = ["rbind", "rprivate"] },
        ];
        spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229, FileMode = 0x1b6, Uid = 0, Gid = 0 }];

        var plan = Plan(Message(spec));

        string[] expected =
        [
            .. Start,
            "mount proc proc on /proc nosuid,nodev,noexec",
            "mount tmpfs tmpfs on /dev nosuid,strictatime data mode=755,size=65536k",
            "mount devpts devpts on /dev/pts nosuid,noexec data newinstance,ptmxmode=0666,mode=0620,gid=5",
            "mount sysfs sysfs on /sys ro,nosuid,nodev,noexec else(errno 1) bind rec /sys remount ro,nosuid,nodev,noexec,remount,bind",
            .. V1CgroupTree,
            "mount mqueue mqueue on /dev/mqueue nosuid,nodev,noexec else(errno 1) bind /dev/mqueue",
            $"bind {Store}/mounts/shm on /dev/shm rec remount nosuid,nodev,noexec",
            $"bind {Store}/resolv.conf on /etc/resolv.conf rec",
            "propagation in root /etc/resolv.conf private,rec",
            $"bind {Store}/hosts on /etc/hosts rec",
            "propagation in root /etc/hosts private,rec",
            .. DefaultDevices,
            .. DevLinks,
            "symlink /dev/ptmx -> pts/ptmx replace",
            "mknod /dev/fuse c 10:229 666 0:0",
            "mkdir /",
            "checkpoint BeforePivot",
            "pivot_root /b/rootfs",
        ];
        Assert.Equal(expected, PlanText.Of(plan.Setup));
        Assert.Equal(DefaultMasksAndReadonly, PlanText.Of(plan.Finish));
    }

    /// <summary>What podman asks with --read-only: tmpcopyup tmpfs, binds with bind/rbind, ro and rprivate, masked directories.</summary>
    [Fact]
    public void APodmanLikeConfig()
    {
        const string Userdata = "/var/lib/containers/storage/overlay-containers/abc/userdata";
        var spec = DefaultSpec.Create(rootless: false);
        spec.Mounts =
        [
            new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
            new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
            new() { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            new() { Destination = "/dev/shm", Type = "bind", Source = $"{Userdata}/shm", Options = ["bind", "rprivate", "nosuid", "noexec", "nodev"] },
            new() { Destination = "/etc/hostname", Type = "bind", Source = $"{Userdata}/hostname", Options = ["bind", "rw", "rprivate"] },
            new() { Destination = "/tmp", Type = "tmpfs", Source = "tmpfs", Options = ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup"] },
            new() { Destination = "/data/", Type = "bind", Source = "/srv/data", Options = ["rbind", "ro", "rprivate"] },
            new() { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"] },
        ];
        spec.Linux!.MaskedPaths = ["/proc/acpi", "/sys/firmware", "/sys/fs/selinux", "/proc/kcore"];
        spec.Linux.ReadonlyPaths = ["/proc/asound", "/proc/sys"];

        var plan = Plan(Message(spec));

        string[] expected =
        [
            .. Start,
            "mount proc proc on /proc nosuid,nodev,noexec",
            "mount tmpfs tmpfs on /dev nosuid,strictatime data mode=755,size=65536k",
            "mount sysfs sysfs on /sys ro,nosuid,nodev,noexec else(errno 1) bind rec /sys remount ro,nosuid,nodev,noexec,remount,bind",
            "mount devpts devpts on /dev/pts nosuid,noexec data newinstance,ptmxmode=0666,mode=0620,gid=5",
            $"bind {Userdata}/shm on /dev/shm remount nosuid,nodev,noexec",
            "propagation in root /dev/shm private,rec",
            // "rw" on a bind is a flag cleared: it takes a remount too (to read-write).
            $"bind {Userdata}/hostname on /etc/hostname remount 0",
            "propagation in root /etc/hostname private,rec",
            "mount tmpfs tmpfs on /tmp nosuid,nodev copyup",
            "propagation in root /tmp private,rec",
            "bind /srv/data on /data rec remount ro",
            "propagation in root /data private,rec",
            .. V1CgroupTree,
            "propagation in root /sys/fs/cgroup private,rec",
            .. DefaultDevices,
            .. DevLinks,
            "symlink /dev/ptmx -> pts/ptmx replace",
            "mkdir /",
            "checkpoint BeforePivot",
            "pivot_root /b/rootfs",
        ];
        Assert.Equal(expected, PlanText.Of(plan.Setup));
        Assert.Equal(["mask /proc/acpi", "mask /sys/firmware", "mask /sys/fs/selinux", "mask /proc/kcore",
            "readonly /proc/asound", "readonly /proc/sys", "remount / ro,remount,bind"], PlanText.Of(plan.Finish));
    }

    /// <summary>
    /// In a user namespace no device node can be made: each is the host's, bound. Sources the runtime
    /// opened are bound from their descriptors; an idmapped one is attached (move_mount).
    /// </summary>
    [Fact]
    public void AUserNamespaceBindsDevicesAndUsesTheSourcesTheRuntimeOpened()
    {
        var spec = WithUserNamespace(DefaultSpec.Create(rootless: false));
        spec.Mounts!.Add(new Mount { Destination = "/data", Type = "bind", Source = "/srv/data", Options = ["rbind", "ro"] });
        spec.Mounts.Add(new Mount
        {
            Destination = "/mapped", Type = "bind", Source = "/srv/mapped", Options = ["bind"],
            UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1000, Size = 1 }],
            GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 1000, Size = 1 }],
        });
        spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229 }];
        var init = Message(spec);
        init.BindSourceFds = new() { [7] = new FileDescriptor(40, ownsHandle: false), [8] = new FileDescriptor(41, ownsHandle: false) };

        var plan = Plan(init);

        var setup = PlanText.Of(plan.Setup);
        Assert.Contains("bind fd 40 on /data rec remount ro", setup);
        Assert.Contains("bind fd 41 on /mapped attach", setup);
        Assert.Equal(["bind host device /dev/null", "bind host device /dev/zero", "bind host device /dev/full", "bind host device /dev/random",
            "bind host device /dev/urandom", "bind host device /dev/tty", "bind host device /dev/fuse"],
            setup.Where(s => s.StartsWith("bind host device", StringComparison.Ordinal) || s.StartsWith("mknod", StringComparison.Ordinal)));
        // The descriptors are the steps' to close, not taken out of the message: planning changes nothing.
        Assert.Equal(2, init.BindSourceFds.Count);
    }

    [Fact]
    public void UnderAUserNamespaceTheRootIsReachedThroughTheRuntimesDescriptors()
    {
        // The runtime opened a copy of the root and its directory: no step names root.path, which a
        // mapped root may not reach (a 0700 bundle directory).
        var init = Message(WithUserNamespace(DefaultSpec.Create(rootless: false)));
        init.BindSourceFds = new() { [BindSources.RootTree] = new FileDescriptor(50, ownsHandle: false), [BindSources.RootTarget] = new FileDescriptor(51, ownsHandle: false) };

        var setup = PlanText.Of(Plan(init).Setup);

        Assert.Contains($"attach fd 50 onto fd 51 ({RootfsPath})", setup);
        Assert.Contains("open root /proc/self/fd/50", setup);
        Assert.Equal("pivot_root /proc/self/fd/50", setup[^1]);
        Assert.DoesNotContain(setup, s => s.StartsWith("host mount", StringComparison.Ordinal));
    }

    /// <summary>`moat spec --rootless`: /sys is the host's, bound read-only, and every device node is the host's too.</summary>
    [Fact]
    public void TheRootlessDefaultConfig()
    {
        var setup = PlanText.Of(Plan(Message(DefaultSpec.Create(rootless: true, 1000, 1000))).Setup);

        Assert.Contains("bind /sys on /sys rec remount ro,nosuid,nodev,noexec", setup);
        Assert.DoesNotContain(setup, s => s.StartsWith("mknod", StringComparison.Ordinal));
        Assert.Equal(6, setup.Count(s => s.StartsWith("bind host device", StringComparison.Ordinal)));
        // The mounts that take no flag from the host are the same as with root.
        Assert.Contains("mount devpts devpts on /dev/pts nosuid,noexec data newinstance,ptmxmode=0666,mode=0620", setup);
    }

    [Fact]
    public void AnIdmappedMountWithoutAUserNamespaceIsMappedByTheInit()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Mounts!.Add(new Mount { Destination = "/mapped", Type = "bind", Source = "data", Options = ["rbind", "ridmap", "nosuid"] });
        var init = Message(spec);
        init.IdmapFds = new() { [7] = 33 };

        var step = Assert.IsType<IdmappedBind>(Plan(init).Setup.Single(s => s.Destination == "/mapped"));

        // A relative source is the bundle's.
        Assert.Equal("idmapped bind /b/data on /mapped userns fd 33 rec ridmap remount nosuid", PlanText.Of(step));
    }

    [Fact]
    public void WithoutAMountNamespaceTheContainerIsOnlyChrooted()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Linux!.Namespaces!.RemoveAll(n => n.Type == NamespaceType.Mount);
        var host = new FakeHostFacts();

        var plan = Plan(Message(spec), host);
        var exec = Plan(new InitMessage { Spec = spec, Rootfs = RootfsPath, Exec = true }, host);

        Assert.Equal(["checkpoint BeforePivot"], PlanText.Of(plan.Setup));
        Assert.Equal(["chroot /b/rootfs"], PlanText.Of(plan.Finish));
        Assert.Empty(exec.Setup);
        Assert.Equal(["chroot /b/rootfs"], PlanText.Of(exec.Finish));
        Assert.Empty(host.Asked);
    }

    [Fact]
    public void AnExecIntoAContainerWithItsOwnMountNamespaceBuildsNothing()
    {
        var host = new FakeHostFacts();
        var plan = Plan(new InitMessage { Spec = DefaultSpec.Create(rootless: false), Rootfs = RootfsPath, Exec = true }, host);

        Assert.Same(RootfsPlan.Nothing, plan);
        Assert.Empty(host.Asked);
    }

    [Fact]
    public void NoPivotMovesTheRootAndChroots()
    {
        var init = Message(DefaultSpec.Create(rootless: false));
        init.NoPivot = true;

        Assert.Equal("move root and chroot /b/rootfs", PlanText.Of(Plan(init).Setup[^1]));
    }

    [Fact]
    public void ABoundDevGetsNoDefaultNodesOrLinks()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Mounts!.RemoveAll(m => m.Destination.StartsWith("/dev", StringComparison.Ordinal));
        spec.Mounts.Add(new Mount { Destination = "/dev/", Type = "bind", Source = "/dev", Options = ["rbind"] });
        var host = new FakeHostFacts();

        var setup = PlanText.Of(Plan(Message(spec), host).Setup);

        Assert.DoesNotContain(setup, s => s.StartsWith("mknod", StringComparison.Ordinal) || s.StartsWith("symlink /dev", StringComparison.Ordinal));
        // /proc/kcore only matters for /dev/core: not looked at.
        Assert.Equal(["mount point of /b"], host.Asked);
    }

    [Fact]
    public void WithoutKcoreThereIsNoDevCoreAndWithoutDevPtsNoPtmxLink()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Mounts!.RemoveAll(m => m.Destination == "/dev/pts");

        var setup = PlanText.Of(Plan(Message(spec), new FakeHostFacts(hasKcore: false)).Setup);

        Assert.Equal(DevLinks[..4], setup.Where(s => s.StartsWith("symlink /dev", StringComparison.Ordinal)));
    }

    [Fact]
    public void RootfsPropagationReplacesTheSlaveAndIsAppliedAgainAtTheEnd()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Linux!.RootfsPropagation = "rshared";
        spec.Root!.Readonly = false;
        spec.Linux.MaskedPaths = [];
        spec.Linux.ReadonlyPaths = [];

        var plan = Plan(Message(spec));

        Assert.Equal("propagation / shared,rec", PlanText.Of(plan.Setup[1]));
        Assert.Equal("linux.rootfsPropagation", plan.Setup[1].Origin.ToString());
        Assert.Equal(["propagation / shared,rec"], PlanText.Of(plan.Finish));
    }

    [Fact]
    public void RecursiveAttributesAndPropagationFollowTheirMount()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Mounts = [new Mount { Destination = "/data", Type = "bind", Source = "/srv", Options = ["rbind", "rro", "rnosuid", "rslave", "runbindable"] }];

        var setup = PlanText.Of(Plan(Message(spec)).Setup);

        var at = setup.IndexOf("bind /srv on /data rec");
        Assert.True(at > 0, string.Join('\n', setup));
        Assert.Equal(["setattr rec /data set 0x3 clear 0x0", "propagation in root /data slave,rec", "propagation in root /data unbindable,rec"], setup[(at + 1)..(at + 4)]);
    }

    [Fact]
    public void AMountLabelBecomesTheContextOfFilesystemsThatTakeOne()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Linux!.MountLabel = "system_u:object_r:container_file_t:s0";

        var steps = Plan(Message(spec)).Setup.OfType<MountFilesystem>().ToDictionary(m => m.Destination);

        Assert.Null(steps["/proc"].Data);
        Assert.Equal("mode=1777,size=65536k,context=\"system_u:object_r:container_file_t:s0\"", steps["/dev/shm"].Data);
        Assert.Equal("nosuid,nodev,noexec", PlanText.Flags(steps["/dev/mqueue"].Flags));
        Assert.Null(steps["/dev/mqueue"].Data);
        // The tmpfs that holds the cgroup hierarchies is the runtime's own.
        Assert.Equal("mode=755", steps["/sys/fs/cgroup"].Data);
    }

    [Fact]
    public void BadMountsAreRefusedWithTheirFieldAndDestination()
    {
        var noSource = DefaultSpec.Create(rootless: false);
        noSource.Mounts!.Add(new Mount { Destination = "/x", Type = "bind", Options = ["rbind"] });
        var copyUpBind = DefaultSpec.Create(rootless: false);
        copyUpBind.Mounts!.Add(new Mount { Destination = "/y", Type = "bind", Source = "/srv", Options = ["rbind", "tmpcopyup"] });
        var badDevice = DefaultSpec.Create(rootless: false);
        badDevice.Linux!.Devices = [new LinuxDevice { Path = "/dev/x", Type = "q" }];

        Assert.Equal("mounts[7] (/x): a bind mount needs a source", Assert.Throws<RuntimeException>(() => Plan(Message(noSource))).Message);
        Assert.StartsWith("mounts[7] (/y): mount option \"tmpcopyup\" applies to tmpfs mounts only", Assert.Throws<RuntimeException>(() => Plan(Message(copyUpBind))).Message);
        Assert.Equal("unknown device type \"q\"", Assert.Throws<RuntimeException>(() => Plan(Message(badDevice))).Message);
    }

    [Fact]
    public void TheParentMountOfTheRootfsIsFoundInMountinfo()
    {
        string[] mountinfo =
        [
            "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
            "25 22 0:21 / /run rw,nosuid shared:5 - tmpfs tmpfs rw",
            "26 25 0:22 / /run/user rw shared:6 - tmpfs tmpfs rw",
            "27 22 0:23 / /runner rw shared:7 - tmpfs tmpfs rw",
        ];

        Assert.Equal("/run", HostRootfsFacts.MountPointIn(mountinfo, "/run/b"));
        Assert.Equal("/run/user", HostRootfsFacts.MountPointIn(mountinfo, "/run/user"));
        Assert.Equal("/", HostRootfsFacts.MountPointIn(mountinfo, "/srv/b"));
    }
}
