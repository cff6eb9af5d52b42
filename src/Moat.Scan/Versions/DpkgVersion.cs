namespace Moat.Scan.Versions;

/// <summary>
/// Debian's version order (deb-version(7), dpkg's verrevcmp): epoch numerically, then the upstream
/// version and the revision each compared as alternating non-digit and digit runs. In non-digit runs
/// '~' sorts before everything (even the end), letters before non-letters.
/// </summary>
public static class DpkgVersion
{
    public static int Compare(string a, string b)
    {
        var (epochA, upstreamA, revisionA) = Split(a);
        var (epochB, upstreamB, revisionB) = Split(b);
        var epoch = epochA.CompareTo(epochB);
        if (epoch != 0)
            return Math.Sign(epoch);
        var upstream = CompareFragment(upstreamA, upstreamB);
        return upstream != 0 ? upstream : CompareFragment(revisionA, revisionB);
    }

    /// <summary>epoch:upstream-revision; a missing epoch is 0, a missing revision is empty (sorts as "0").</summary>
    static (long Epoch, string Upstream, string Revision) Split(string version)
    {
        version = version.Trim();
        long epoch = 0;
        var colon = version.IndexOf(':');
        if (colon > 0 && long.TryParse(version.AsSpan(0, colon), System.Globalization.NumberStyles.None, null, out var parsed))
        {
            epoch = parsed;
            version = version[(colon + 1)..];
        }
        var hyphen = version.LastIndexOf('-');
        return hyphen < 0 ? (epoch, version, "") : (epoch, version[..hyphen], version[(hyphen + 1)..]);
    }

    /// <summary>dpkg's order of a character in a non-digit run: '~' lowest, end of string next, letters, then the rest by code.</summary>
    static int Order(char c) =>
        char.IsAsciiDigit(c) ? 0 : char.IsAsciiLetter(c) ? c : c == '~' ? -1 : c != 0 ? c + 256 : 0;

    static int CompareFragment(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            var firstDifference = 0;
            while ((i < a.Length && !char.IsAsciiDigit(a[i])) || (j < b.Length && !char.IsAsciiDigit(b[j])))
            {
                var ac = i < a.Length ? Order(a[i]) : 0;
                var bc = j < b.Length ? Order(b[j]) : 0;
                if (ac != bc)
                    return Math.Sign(ac - bc);
                i++;
                j++;
            }
            while (i < a.Length && a[i] == '0') i++;
            while (j < b.Length && b[j] == '0') j++;
            while (i < a.Length && char.IsAsciiDigit(a[i]) && j < b.Length && char.IsAsciiDigit(b[j]))
            {
                if (firstDifference == 0)
                    firstDifference = a[i] - b[j];
                i++;
                j++;
            }
            if (i < a.Length && char.IsAsciiDigit(a[i]))
                return 1;
            if (j < b.Length && char.IsAsciiDigit(b[j]))
                return -1;
            if (firstDifference != 0)
                return Math.Sign(firstDifference);
        }
        return 0;
    }
}
