using Moat.Scan.Inventory;

namespace Moat.Scan.Osv;

/// <summary>
/// OSV's ecosystem names for distribution releases, and the one an image's os-release maps to. Records are
/// stored under a normalised name: "Ubuntu:22.04:LTS" → "Ubuntu:22.04", "Red Hat:enterprise_linux:9::baseos"
/// → "Red Hat:9", "Debian:12" and "Alpine:v3.19" as they are.
/// </summary>
public static class Ecosystems
{
    /// <summary>The stored name of an OSV ecosystem; null for ecosystems this scanner does not read (npm, PyPI, ...).</summary>
    public static string? Normalize(string ecosystem)
    {
        var parts = ecosystem.Split(':');
        switch (parts[0])
        {
            case "Debian" or "Alpine":
                return parts.Length >= 2 && parts[1].Length > 0 ? parts[0] + ":" + parts[1] : parts[0];
            case "Ubuntu":
                // "Ubuntu:22.04:LTS", "Ubuntu:24.10", "Ubuntu:Pro:18.04:LTS" (fixes that need a Pro subscription: kept apart).
                if (parts.Length >= 3 && parts[1] == "Pro")
                    return "Ubuntu:Pro:" + parts[2];
                return parts.Length >= 2 ? "Ubuntu:" + parts[1] : "Ubuntu";
            case "Red Hat":
                // "Red Hat:enterprise_linux:9::appstream": RHEL 9, any repository.
                if (parts.Length >= 3 && parts[1] == "enterprise_linux")
                    return "Red Hat:" + parts[2].Split('.')[0];
                return parts.Length >= 3 ? $"Red Hat:{parts[1]}:{parts[2]}" : "Red Hat";
            default:
                return null;
        }
    }

    /// <summary>The stored ecosystem an image's packages are matched in, from its os-release.</summary>
    public static string ForImage(OsRelease? os)
    {
        if (os is null)
            throw new ScanException("the image has no /etc/os-release (nor /usr/lib/os-release): which distribution release its packages come from is unknown");
        var version = os.VersionId;
        string Need() => version ?? throw new ScanException($"the image's os-release names {os.Id} but no VERSION_ID: the release to match against is unknown");
        if (os.Id == "debian")
            return "Debian:" + Need().Split('.')[0];
        if (os.Id == "ubuntu")
            return "Ubuntu:" + Need();
        if (os.Id == "alpine")
        {
            var numbers = Need().Split('.');
            return numbers.Length >= 2 ? $"Alpine:v{numbers[0]}.{numbers[1]}" : "Alpine:v" + numbers[0];
        }
        if (os.Id is "rhel" or "centos" or "rocky" or "almalinux" || (os.IsLike("rhel") && os.Id != "fedora"))
            return "Red Hat:" + Need().Split('.')[0];
        throw new ScanException($"there is no vulnerability data for {os.PrettyName ?? os.Id}: moat scan matches Debian, Ubuntu, Alpine and Red Hat Enterprise Linux releases");
    }
}
