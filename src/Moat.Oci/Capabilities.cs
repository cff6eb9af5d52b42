using System.Collections.Frozen;

namespace Moat.Oci;

/// <summary>Linux capability names as the spec writes them (CAP_*) and their kernel numbers.</summary>
public static class Capabilities
{
    /// <summary>Highest capability number this table knows (CAP_CHECKPOINT_RESTORE).</summary>
    public const int Last = 40;

    // Index is the kernel capability number (include/uapi/linux/capability.h).
    private static readonly string[] NamesByNumber =
    [
        "CAP_CHOWN",              // 0
        "CAP_DAC_OVERRIDE",       // 1
        "CAP_DAC_READ_SEARCH",    // 2
        "CAP_FOWNER",             // 3
        "CAP_FSETID",             // 4
        "CAP_KILL",               // 5
        "CAP_SETGID",             // 6
        "CAP_SETUID",             // 7
        "CAP_SETPCAP",            // 8
        "CAP_LINUX_IMMUTABLE",    // 9
        "CAP_NET_BIND_SERVICE",   // 10
        "CAP_NET_BROADCAST",      // 11
        "CAP_NET_ADMIN",          // 12
        "CAP_NET_RAW",            // 13
        "CAP_IPC_LOCK",           // 14
        "CAP_IPC_OWNER",          // 15
        "CAP_SYS_MODULE",         // 16
        "CAP_SYS_RAWIO",          // 17
        "CAP_SYS_CHROOT",         // 18
        "CAP_SYS_PTRACE",         // 19
        "CAP_SYS_PACCT",          // 20
        "CAP_SYS_ADMIN",          // 21
        "CAP_SYS_BOOT",           // 22
        "CAP_SYS_NICE",           // 23
        "CAP_SYS_RESOURCE",       // 24
        "CAP_SYS_TIME",           // 25
        "CAP_SYS_TTY_CONFIG",     // 26
        "CAP_MKNOD",              // 27
        "CAP_LEASE",              // 28
        "CAP_AUDIT_WRITE",        // 29
        "CAP_AUDIT_CONTROL",      // 30
        "CAP_SETFCAP",            // 31
        "CAP_MAC_OVERRIDE",       // 32
        "CAP_MAC_ADMIN",          // 33
        "CAP_SYSLOG",             // 34
        "CAP_WAKE_ALARM",         // 35
        "CAP_BLOCK_SUSPEND",      // 36
        "CAP_AUDIT_READ",         // 37
        "CAP_PERFMON",            // 38
        "CAP_BPF",                // 39
        "CAP_CHECKPOINT_RESTORE", // 40
    ];

    private static readonly FrozenDictionary<string, int> NumbersByName =
        NamesByNumber.Select((name, number) => KeyValuePair.Create(name, number)).ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>All known names; the position of a name is its capability number.</summary>
    public static IReadOnlyList<string> Names => NamesByNumber;

    /// <summary>
    /// What Docker and Podman grant a container unless told otherwise (moby daemon/pkg/oci/caps/defaults.go):
    /// the set a bundle from an image starts with, and the baseline the audit measures a config against.
    /// </summary>
    public static IReadOnlyList<string> DockerDefault { get; } =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    public static bool IsKnown(string name) => NumbersByName.ContainsKey(name);

    public static bool TryGetNumber(string name, out int number) => NumbersByName.TryGetValue(name, out number);

    public static int GetNumber(string name) =>
        NumbersByName.TryGetValue(name, out var number)
            ? number
            : throw new ArgumentException($"unknown capability \"{name}\"", nameof(name));

    public static string GetName(int number) =>
        number >= 0 && number < NamesByNumber.Length
            ? NamesByNumber[number]
            : throw new ArgumentOutOfRangeException(nameof(number), number, "unknown capability number");
}
