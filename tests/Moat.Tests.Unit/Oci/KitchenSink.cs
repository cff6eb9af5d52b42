using Moat.Oci;

namespace Moat.Tests.Unit.Oci;

/// <summary>
/// A spec with every property of every model type set to a non-default value (SpecJsonTests checks that
/// by reflection), with strings the writer must escape and numbers at the edges of their types.
/// </summary>
internal static class KitchenSink
{
    /// <summary>Needs escaping in JSON and by the default (HTML-safe) encoder: quotes, control characters, non-ASCII.</summary>
    public const string Awkward = "q\"b\\s/<t>&'+ é日本😀\u0001\t\n\u007f\u2028";

    public static Spec Create() => new()
    {
        OciVersion = "1.2.0",
        Process = CreateProcess(),
        Root = new Root { Path = "rootfs", Readonly = true },
        Hostname = "host",
        Domainname = "example.org",
        Mounts =
        [
            new Mount
            {
                Destination = "/data", Type = "bind", Source = Awkward, Options = ["rbind", "rw"],
                UidMappings = [new LinuxIdMapping { ContainerId = 1, HostId = uint.MaxValue, Size = 65536 }],
                GidMappings = [new LinuxIdMapping { ContainerId = 2, HostId = 100000, Size = 1 }],
            },
            new Mount
            {
                Destination = "/proc", Type = "proc", Source = "proc", Options = [],
                UidMappings = [], GidMappings = [new LinuxIdMapping { ContainerId = 3, HostId = 4, Size = 5 }],
            },
        ],
        Hooks = new Hooks
        {
            Prestart = [Hook("prestart")],
            CreateRuntime = [Hook("createRuntime"), Hook("second")],
            CreateContainer = [Hook("createContainer")],
            StartContainer = [Hook("startContainer")],
            Poststart = [Hook("poststart")],
            Poststop = [],
        },
        Annotations = new() { ["com.example.key"] = Awkward, ["with space"] = "", ["x/y"] = "z" },
        Linux = CreateLinux(),
    };

    private static Hook Hook(string name) => new()
    {
        Path = "/usr/bin/" + name, Args = [name, "-x"], Env = ["A=1"], Timeout = int.MaxValue,
    };

    public static Process CreateProcess() => new()
    {
        Terminal = true,
        ConsoleSize = new ConsoleSize { Height = ulong.MaxValue, Width = 80 },
        User = new User { Uid = uint.MaxValue, Gid = 1, Umask = 18, AdditionalGids = [0, 5, uint.MaxValue], Username = "user" },
        Args = ["/bin/sh", "-c", Awkward],
        CommandLine = "cmd.exe /c dir",
        Env = ["PATH=/bin", "EMPTY="],
        Cwd = "/root",
        Capabilities = new LinuxCapabilities
        {
            Bounding = ["CAP_KILL"], Effective = ["CAP_KILL", "CAP_CHOWN"], Inheritable = [],
            Permitted = ["CAP_KILL"], Ambient = ["CAP_NET_BIND_SERVICE"],
        },
        Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = ulong.MaxValue, Soft = 1024 }],
        NoNewPrivileges = true,
        ApparmorProfile = "profile",
        OomScoreAdj = int.MinValue,
        Scheduler = new Scheduler
        {
            Policy = "SCHED_DEADLINE", Nice = -20, Priority = 99, Flags = ["SCHED_FLAG_RESET_ON_FORK"],
            Runtime = 1, Deadline = 2, Period = ulong.MaxValue,
        },
        SelinuxLabel = "system_u:system_r:svirt_lxc_net_t:s0:c124,c675",
        IoPriority = new IoPriority { Class = "IOPRIO_CLASS_RT", Priority = -7 },
        ExecCpuAffinity = new CpuAffinity { Initial = "7", Final = "0-3,7" },
    };

    private static Linux CreateLinux() => new()
    {
        Namespaces = [new LinuxNamespace { Type = "pid", Path = "/proc/1/ns/pid" }, new LinuxNamespace { Type = "network", Path = "/var/run/netns/blue" }],
        UidMappings = [new LinuxIdMapping { ContainerId = 7, HostId = 1000, Size = 32000 }],
        GidMappings = [new LinuxIdMapping { ContainerId = 8, HostId = 1000, Size = 32000 }],
        TimeOffsets = new()
        {
            ["monotonic"] = new LinuxTimeOffset { Secs = long.MinValue, Nanosecs = uint.MaxValue },
            ["boottime"] = new LinuxTimeOffset { Secs = long.MaxValue, Nanosecs = 1 },
        },
        Devices =
        [
            new LinuxDevice { Type = "c", Path = "/dev/fuse", Major = long.MaxValue, Minor = long.MinValue, FileMode = 438, Uid = 1, Gid = 2 },
        ],
        CgroupsPath = "/my/cgroup",
        Resources = CreateResources(),
        IntelRdt = new LinuxIntelRdt { ClosId = "guaranteed", L3CacheSchema = "L3:0=7f0", MemBwSchema = "MB:0=20", EnableCmt = true, EnableMbm = false },
        Sysctl = new() { ["net.ipv4.ip_forward"] = "1", ["kernel.shmmax"] = "68719476736" },
        Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            DefaultErrnoRet = 1,
            Architectures = ["SCMP_ARCH_X86_64"],
            Flags = ["SECCOMP_FILTER_FLAG_LOG"],
            ListenerPath = "/run/agent.sock",
            ListenerMetadata = Awkward,
            Syscalls =
            [
                new LinuxSyscall
                {
                    Names = ["personality", "mkdir"], Action = "SCMP_ACT_ALLOW", ErrnoRet = 38,
                    Args = [new LinuxSeccompArg { Index = 1, Value = ulong.MaxValue, ValueTwo = 8, Op = "SCMP_CMP_MASKED_EQ" }],
                },
            ],
        },
        RootfsPropagation = "rslave",
        MaskedPaths = ["/proc/kcore"],
        ReadonlyPaths = ["/proc/sys"],
        MountLabel = "system_u:object_r:svirt_sandbox_file_t:s0",
        Personality = new LinuxPersonality { Domain = "LINUX32", Flags = ["flag"] },
        NetDevices = new() { ["eth2"] = new LinuxNetDevice { Name = "ctr0" } },
    };

    public static LinuxResources CreateResources() => new()
    {
        Devices = [new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = -1, Access = "rwm" }],
        Memory = new LinuxMemory
        {
            Limit = -1, Reservation = long.MaxValue, Swap = long.MinValue, Kernel = 1, KernelTcp = 2,
            Swappiness = ulong.MaxValue, DisableOomKiller = true, UseHierarchy = false, CheckBeforeUpdate = true,
        },
        Cpu = new LinuxCpu
        {
            Shares = 1024, Quota = -1, Burst = 3, Period = 100000, RealtimeRuntime = -5, RealtimePeriod = 6,
            Cpus = "0-3", Mems = "0", Idle = 1,
        },
        Pids = new LinuxPids { Limit = -1 },
        BlockIo = new LinuxBlockIo
        {
            Weight = ushort.MaxValue, LeafWeight = 10,
            WeightDevice = [new LinuxWeightDevice { Major = 8, Minor = 16, Weight = 500, LeafWeight = 300 }],
            ThrottleReadBpsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 32, Rate = ulong.MaxValue }],
            ThrottleWriteBpsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 1, Rate = 2 }],
            ThrottleReadIopsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 2, Rate = 3 }],
            ThrottleWriteIopsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 3, Rate = 4 }],
        },
        HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 209715200 }],
        Network = new LinuxNetwork { ClassId = 1048577, Priorities = [new LinuxInterfacePriority { Name = "eth0", Priority = uint.MaxValue }] },
        Rdma = new() { ["mlx5_1"] = new LinuxRdma { HcaHandles = 3, HcaObjects = 10000 } },
        Unified = new() { ["memory.high"] = "1073741824", ["io.max"] = "259:0 rbps=2097152" },
    };
}
