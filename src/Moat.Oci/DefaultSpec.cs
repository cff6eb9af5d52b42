namespace Moat.Oci;

/// <summary>The starter config.json that the `spec` command writes, matching what `runc spec` produces.</summary>
public static class DefaultSpec
{
    public const string Hostname = "moat";

    private static readonly string[] DefaultCapabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

    /// <summary>
    /// The spec for a container started by root, or with <paramref name="rootless"/> the
    /// <see cref="CreateRootless"/> variant mapping container root onto <paramref name="hostUid"/>/<paramref name="hostGid"/>
    /// (pass the caller's effective ids; they are ignored when not rootless).
    /// </summary>
    public static Spec Create(bool rootless, uint hostUid = 0, uint hostGid = 0) =>
        rootless ? CreateRootless(hostUid, hostGid) : CreateBase();

    /// <summary>
    /// Where <see cref="CreateMappedRoot"/> puts container root on the host: the last 65536 ids below 2^31
    /// (ids from 2^31 up read as negative in many tools). It is the top slot of the pool `moat run
    /// --userns auto` draws from when /etc/subuid has no `containers` entry (2^30 up), which the engine
    /// hands out last and skips while a process holds it (it reads /proc/*/uid_map).
    /// </summary>
    public const uint MappedRootHostId = (1u << 31) - MappedRootSize;

    /// <summary>The size of <see cref="CreateMappedRoot"/>'s mapping: every id a distribution's files use.</summary>
    public const uint MappedRootSize = 65536;

    /// <summary>
    /// What `moat-runtime spec` writes for root: runc's config in a user namespace of its own, container ids
    /// 0-65535 mapped to <paramref name="hostId"/> onward (the same number for uids and gids), so container
    /// root is not host root (audit rule MOAT-A001). The network namespace is the user namespace's own, so
    /// sysfs mounts; /dev/pts's gid=5 is mapped. A rootfs owned by host root shows as owned by nobody inside
    /// (readable where its modes let others read; runc's root is read-only anyway).
    /// </summary>
    public static Spec CreateMappedRoot(uint hostId = MappedRootHostId, uint size = MappedRootSize)
    {
        var spec = CreateBase();
        var linux = spec.Linux!;
        linux.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.User });
        linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = hostId, Size = size }];
        linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = hostId, Size = size }];
        return spec;
    }

    /// <summary>
    /// A spec an unprivileged user can run, as `runc spec --rootless` writes it: a user namespace mapping
    /// container root to the given host ids, no network namespace (an unprivileged user cannot configure one),
    /// /sys bind-mounted from the host (sysfs cannot be mounted without owning the network namespace),
    /// no uid=/gid= mount options (those ids are unmapped) and no cgroup resources.
    /// </summary>
    public static Spec CreateRootless(uint hostUid, uint hostGid)
    {
        var spec = CreateBase();
        var linux = spec.Linux!;

        linux.Namespaces = linux.Namespaces!
            .Where(ns => ns.Type is not (NamespaceType.Network or NamespaceType.User))
            .Append(new LinuxNamespace { Type = NamespaceType.User })
            .ToList();
        linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = hostUid, Size = 1 }];
        linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = hostGid, Size = 1 }];

        var mounts = new List<Mount>();
        foreach (var mount in spec.Mounts!)
        {
            if (mount.Destination == "/sys")
            {
                mounts.Add(new Mount
                {
                    Destination = "/sys",
                    Type = "none",
                    Source = "/sys",
                    Options = ["rbind", "nosuid", "noexec", "nodev", "ro"],
                });
                continue;
            }
            mount.Options = mount.Options?
                .Where(o => !o.StartsWith("uid=", StringComparison.Ordinal) && !o.StartsWith("gid=", StringComparison.Ordinal))
                .ToList();
            mounts.Add(mount);
        }
        spec.Mounts = mounts;

        linux.Resources = null;
        return spec;
    }

    private static Spec CreateBase() => new()
    {
        OciVersion = SpecVersion.Current,
        Root = new Root { Path = "rootfs", Readonly = true },
        Process = new Process
        {
            Terminal = true,
            User = new User { Uid = 0, Gid = 0 },
            Args = ["sh"],
            Env =
            [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
            ],
            Cwd = "/",
            Capabilities = new LinuxCapabilities
            {
                Bounding = [.. DefaultCapabilities],
                Effective = [.. DefaultCapabilities],
                Permitted = [.. DefaultCapabilities],
            },
            Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 1024 }],
            NoNewPrivileges = true,
        },
        Hostname = Hostname,
        Mounts =
        [
            new Mount { Destination = "/proc", Type = "proc", Source = "proc" },
            new Mount
            {
                Destination = "/dev", Type = "tmpfs", Source = "tmpfs",
                Options = ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            new Mount
            {
                Destination = "/dev/pts", Type = "devpts", Source = "devpts",
                Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            },
            new Mount
            {
                Destination = "/dev/shm", Type = "tmpfs", Source = "shm",
                Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            new Mount
            {
                Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue",
                Options = ["nosuid", "noexec", "nodev"],
            },
            new Mount
            {
                Destination = "/sys", Type = "sysfs", Source = "sysfs",
                Options = ["nosuid", "noexec", "nodev", "ro"],
            },
            new Mount
            {
                Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup",
                Options = ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
        ],
        Linux = new Linux
        {
            Resources = new LinuxResources
            {
                Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }],
                // Not in runc's spec: without it a fork bomb in the container takes every pid of the host
                // (audit rule MOAT-A010). 2048 is podman's default and moat run's.
                Pids = new LinuxPids { Limit = 2048 },
            },
            Namespaces =
            [
                new LinuxNamespace { Type = NamespaceType.Pid },
                new LinuxNamespace { Type = NamespaceType.Network },
                new LinuxNamespace { Type = NamespaceType.Ipc },
                new LinuxNamespace { Type = NamespaceType.Uts },
                new LinuxNamespace { Type = NamespaceType.Mount },
                new LinuxNamespace { Type = NamespaceType.Cgroup },
            ],
            MaskedPaths =
            [
                "/proc/acpi",
                "/proc/asound",
                "/proc/interrupts",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
                "/sys/devices/virtual/powercap",
            ],
            ReadonlyPaths =
            [
                "/proc/bus",
                "/proc/fs",
                "/proc/irq",
                "/proc/sys",
                "/proc/sysrq-trigger",
            ],
        },
    };
}
