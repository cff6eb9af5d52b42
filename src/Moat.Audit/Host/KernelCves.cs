namespace Moat.Audit.Host;

/// <summary>
/// Kernel bugs used to escape containers, with the release that introduced each, the mainline release that
/// fixed it and the first fixed release of every stable branch that got the fix. Sources (docs/security.md):
/// the per-branch data of github.com/nluedtke/linux_kernel_cves (snapshot of 2024-04-09) and NVD.
/// </summary>
public static class KernelCves
{
    public sealed record Cve(string Id, string Name, string Needs, (int Major, int Minor) Introduced, (int Major, int Minor) MainlineFix, KernelVersion[] StableFixes);

    static KernelVersion V(int major, int minor, int patch) => new(major, minor, patch, $"{major}.{minor}.{patch}", true);

    public static readonly Cve[] All =
    [
        new("CVE-2020-14386", "AF_PACKET memory corruption", "CAP_NET_RAW, in Docker's default set", (4, 6), (5, 9),
            [V(5, 8, 8), V(5, 4, 64), V(4, 19, 150), V(4, 14, 201), V(4, 9, 239)]),
        new("CVE-2021-22555", "netfilter x_tables heap out-of-bounds write", "CAP_NET_ADMIN in a user namespace", (2, 6), (5, 12),
            [V(5, 11, 15), V(5, 10, 31), V(5, 4, 113), V(4, 19, 188), V(4, 14, 231), V(4, 9, 267), V(4, 4, 267)]),
        new("CVE-2022-0185", "fsconfig legacy_parse_param heap overflow", "CAP_SYS_ADMIN in a user namespace", (5, 1), (5, 17),
            [V(5, 16, 2), V(5, 15, 16), V(5, 10, 93), V(5, 4, 173)]),
        new("CVE-2022-0492", "cgroup v1 release_agent without a capability check", "a writable cgroup v1 hierarchy (no AppArmor/SELinux/seccomp)", (2, 6), (5, 17),
            [V(5, 16, 6), V(5, 15, 20), V(5, 10, 97), V(5, 4, 177), V(4, 19, 229), V(4, 14, 266), V(4, 9, 301)]),
        new("CVE-2022-0847", "Dirty Pipe: overwrite of read-only files through the page cache", "any process", (5, 8), (5, 17),
            [V(5, 16, 11), V(5, 15, 25), V(5, 10, 102)]),
        new("CVE-2023-0386", "overlayfs copy-up of setuid files from a nosuid mount", "an overlay mount in a user namespace", (5, 11), (6, 2),
            [V(6, 1, 9), V(5, 15, 91)]),
        new("CVE-2024-1086", "nf_tables nft_verdict_init double free", "a user namespace (nf_tables)", (3, 15), (6, 8),
            [V(6, 7, 3), V(6, 6, 15), V(6, 1, 76), V(5, 15, 149), V(5, 10, 210), V(5, 4, 269), V(4, 19, 307)]),
    ];

    /// <summary>
    /// Is this version affected? Versions before the introduction or at/after the mainline fix are not; in between,
    /// a branch that got a stable fix is affected below it, and a branch that never got one (it ended first) is affected.
    /// </summary>
    public static bool Affects(Cve cve, KernelVersion version)
    {
        var branch = (version.Major, version.Minor);
        if (Compare(branch, cve.Introduced) < 0 || Compare(branch, cve.MainlineFix) >= 0) return false;
        foreach (var fix in cve.StableFixes)
            if (version.IsBranch(fix.Major, fix.Minor))
                return version.Patch < fix.Patch;
        return true;
    }

    /// <summary>The release to upgrade to: the branch's stable fix, or the mainline release.</summary>
    public static string FixedIn(Cve cve, KernelVersion version)
    {
        foreach (var fix in cve.StableFixes)
            if (version.IsBranch(fix.Major, fix.Minor))
                return fix.ToString();
        return $"{cve.MainlineFix.Major}.{cve.MainlineFix.Minor}";
    }

    static int Compare((int Major, int Minor) a, (int Major, int Minor) b) => a.Major != b.Major ? a.Major.CompareTo(b.Major) : a.Minor.CompareTo(b.Minor);
}
