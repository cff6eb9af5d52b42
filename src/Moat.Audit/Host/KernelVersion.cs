namespace Moat.Audit.Host;

/// <summary>
/// A kernel's upstream version (6.1.76) and whether it can be trusted for CVE matching: a distribution kernel
/// (5.15.0-91-generic, 4.18.0-513.el8) carries backported fixes its version number does not show.
/// </summary>
public sealed record KernelVersion(int Major, int Minor, int Patch, string Release, bool IsExact) : IComparable<KernelVersion>
{
    public int CompareTo(KernelVersion? other) =>
        other is null ? 1 : Major != other.Major ? Major.CompareTo(other.Major) : Minor != other.Minor ? Minor.CompareTo(other.Minor) : Patch.CompareTo(other.Patch);

    public bool IsBranch(int major, int minor) => Major == major && Minor == minor;

    public override string ToString() => $"{Major}.{Minor}.{Patch}";

    /// <summary>
    /// From osrelease, improved by what distributions publish: Ubuntu's /proc/version_signature ends with the
    /// upstream version ("Ubuntu 5.15.0-91.101-generic 5.15.131"); Debian's /proc/version names its package ("Debian 6.1.76-1").
    /// </summary>
    public static KernelVersion? Detect(string? osRelease, string? versionSignature, string? procVersion)
    {
        if (osRelease is null || Parse(osRelease) is not { } fromRelease) return null;
        if (versionSignature?.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } words && Parse(words[^1]) is { } upstream)
            return upstream with { Release = osRelease, IsExact = true };
        if (procVersion is not null)
        {
            var at = procVersion.IndexOf("Debian ", StringComparison.Ordinal);
            if (at >= 0 && Parse(procVersion[(at + 7)..].Split(' ')[0]) is { } debian && debian.Patch > 0)
                return debian with { Release = osRelease, IsExact = true };
        }
        var hasSuffix = osRelease.Contains('-') || osRelease.Contains(".el", StringComparison.Ordinal);
        return fromRelease with { Release = osRelease, IsExact = !(hasSuffix && fromRelease.Patch == 0) };
    }

    /// <summary>"6.1.76-1", "5.15.0-91-generic", "6.8" → the leading numbers; null when there are none.</summary>
    public static KernelVersion? Parse(string text)
    {
        var numbers = new int[3];
        var count = 0;
        var i = 0;
        while (count < 3 && i < text.Length && char.IsAsciiDigit(text[i]))
        {
            var value = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i])) value = value * 10 + (text[i++] - '0');
            numbers[count++] = value;
            if (i < text.Length && text[i] == '.') i++;
            else break;
        }
        return count < 2 ? null : new KernelVersion(numbers[0], numbers[1], numbers[2], text, true);
    }
}
