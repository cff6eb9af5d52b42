using Moat.Oci;

namespace Moat.Images.Bundles;

/// <summary>
/// The parts of a container's config.json that do not come from the image: Docker's defaults (moby
/// daemon/pkg/oci/defaults.go) for mounts, masked and read-only paths, namespaces and device access.
/// </summary>
internal static class SecureDefaults
{
    /// <summary>RLIMIT_NOFILE as Podman sets it: high enough for servers, the same soft and hard.</summary>
    public const ulong OpenFilesLimit = 1048576;

    /// <summary>
    /// <see cref="OpenFilesLimit"/>, or this process's hard limit when that is lower and it lacks CAP_SYS_RESOURCE
    /// to raise it (as podman does): a limit the runtime cannot set would fail every container on such a host.
    /// </summary>
    public static unsafe ulong OpenFilesLimitHere()
    {
        const int RLIMIT_NOFILE = 7, CAP_SYS_RESOURCE = 24;
        Moat.Interop.Libc.RLimit current;
        if (Moat.Interop.Libc.prlimit(0, RLIMIT_NOFILE, null, &current) != 0 || current.Hard >= OpenFilesLimit)
            return OpenFilesLimit;
        // Root of a rootless user namespace has CAP_SYS_RESOURCE only over that namespace: no rlimit above the hard one.
        return HasEffectiveCapability(CAP_SYS_RESOURCE) && !Storage.RootlessIdentity.Active ? OpenFilesLimit : current.Hard;
    }

    static bool HasEffectiveCapability(int capability)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                    return (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << capability)) != 0;
        }
        catch (IOException) { }
        return false;
    }

    public static List<Mount> Mounts() =>
    [
        new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
        new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
        new()
        {
            Destination = "/dev/pts", Type = "devpts", Source = "devpts",
            Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
        new() { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["ro", "nosuid", "noexec", "nodev"] },
        new() { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
        // Docker's default --shm-size (64 MiB).
        new() { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
    ];

    /// <summary>Kernel interfaces that leak host information or allow attacks on it: hidden (a /dev/null or empty tmpfs over them).</summary>
    public static List<string> MaskedPaths() =>
    [
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
        "/sys/devices/virtual/powercap", "/sys/firmware",
    ];

    public static List<string> ReadonlyPaths() => ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>
    /// A namespace of each kind but user and time, less those shared with the host (NamespaceType names);
    /// a user namespace too when the container has id mappings.
    /// </summary>
    public static List<LinuxNamespace> Namespaces(IReadOnlyCollection<string>? shareHost = null, bool userNamespace = false)
    {
        string[] kinds = [NamespaceType.Mount, NamespaceType.Network, NamespaceType.Uts, NamespaceType.Pid, NamespaceType.Ipc, NamespaceType.Cgroup];
        var namespaces = kinds.Where(k => shareHost is null || !shareHost.Contains(k)).Select(k => new LinuxNamespace { Type = k }).ToList();
        if (userNamespace)
            namespaces.Add(new LinuxNamespace { Type = NamespaceType.User });
        return namespaces;
    }

    /// <summary>No device but the standard ones (null, zero, full, random, urandom, tty, console, ptmx); /dev/fuse refused explicitly.</summary>
    public static List<LinuxDeviceCgroup> DeviceRules() =>
    [
        new() { Allow = false, Access = "rwm" },
        Allow(1, 5), Allow(1, 3), Allow(1, 9), Allow(1, 8), Allow(5, 0), Allow(5, 1),
        new() { Allow = false, Type = "c", Major = 10, Minor = 229, Access = "rwm" },
    ];

    static LinuxDeviceCgroup Allow(long major, long minor) => new() { Allow = true, Type = "c", Major = major, Minor = minor, Access = "rwm" };
}
