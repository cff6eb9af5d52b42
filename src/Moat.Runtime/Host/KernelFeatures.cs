using Moat.Interop;

namespace Moat.Runtime.Host;

/// <summary>What the running kernel offers that Moat's tiers use, each probed the way the feature is used.</summary>
public sealed record KernelFeatures
{
    /// <summary>SECCOMP_RET_USER_NOTIF: the action the sandbox tier's supervisor is built on.</summary>
    const uint SeccompRetUserNotif = 0x7fc00000;

    public required string Release { get; init; }
    public required Version Version { get; init; }
    public required string Architecture { get; init; }
    /// <summary>0 when Landlock is not available.</summary>
    public required int LandlockAbi { get; init; }
    public required bool SeccompUserNotification { get; init; }
    /// <summary>SECCOMP_FILTER_FLAG_* names the kernel accepts.</summary>
    public required IReadOnlyList<string> SeccompFlags { get; init; }
    public required bool UserNamespaces { get; init; }
    public required bool TimeNamespaces { get; init; }
    public required bool CgroupNamespaces { get; init; }
    /// <summary>mount_setattr(MOUNT_ATTR_IDMAP), Linux 5.12.</summary>
    public required bool IdmappedMounts { get; init; }
    /// <summary>clone3 with CLONE_INTO_CGROUP, Linux 5.7 (useful only with a cgroup2 hierarchy).</summary>
    public required bool CloneIntoCgroup { get; init; }
    public required bool Overlayfs { get; init; }

    static readonly (string Name, uint Value)[] FilterFlags =
    [
        ("SECCOMP_FILTER_FLAG_TSYNC", Libc.SECCOMP_FILTER_FLAG_TSYNC),
        ("SECCOMP_FILTER_FLAG_LOG", Libc.SECCOMP_FILTER_FLAG_LOG),
        ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", Libc.SECCOMP_FILTER_FLAG_SPEC_ALLOW),
        ("SECCOMP_FILTER_FLAG_NEW_LISTENER", Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER),
        ("SECCOMP_FILTER_FLAG_TSYNC_ESRCH", Libc.SECCOMP_FILTER_FLAG_TSYNC_ESRCH),
        // Accepted only with a listener: probed together with NEW_LISTENER.
        ("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", Libc.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER),
    ];

    public static KernelFeatures Detect(IHostProbe probe)
    {
        var release = probe.ReadText("/proc/sys/kernel/osrelease")?.Trim() ?? "";
        var version = ParseVersion(release);
        var maxUserNamespaces = probe.ReadText("/proc/sys/user/max_user_namespaces")?.Trim();
        return new KernelFeatures
        {
            Release = release,
            Version = version,
            Architecture = probe.Architecture,
            LandlockAbi = probe.LandlockAbi(),
            SeccompUserNotification = probe.SeccompActionAvailable(SeccompRetUserNotif),
            SeccompFlags = FilterFlags.Where(f => probe.SeccompFlagsSupported(f.Value)).Select(f => f.Name).ToList(),
            UserNamespaces = probe.Exists("/proc/self/ns/user") && maxUserNamespaces is not (null or "0"),
            TimeNamespaces = probe.Exists("/proc/self/ns/time"),
            CgroupNamespaces = probe.Exists("/proc/self/ns/cgroup"),
            IdmappedMounts = version >= new Version(5, 12),
            CloneIntoCgroup = version >= new Version(5, 7),
            Overlayfs = (probe.ReadText("/proc/filesystems") ?? "").Split('\n').Any(l => l.EndsWith("\toverlay", StringComparison.Ordinal)),
        };
    }

    /// <summary>"6.18.0-1-amd64" → 6.18.0; anything unreadable → 0.0.</summary>
    public static Version ParseVersion(string release)
    {
        var numbers = new List<int>(3);
        foreach (var part in release.Split('.', 3))
        {
            var digits = 0;
            while (digits < part.Length && char.IsAsciiDigit(part[digits]))
                digits++;
            if (digits == 0)
                break;
            numbers.Add(int.Parse(part.AsSpan(0, digits)));
            if (digits < part.Length)
                break;
        }
        return numbers.Count switch
        {
            0 => new Version(0, 0),
            1 => new Version(numbers[0], 0),
            2 => new Version(numbers[0], numbers[1]),
            _ => new Version(numbers[0], numbers[1], numbers[2]),
        };
    }
}
