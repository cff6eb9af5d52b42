namespace Moat.Scan.Versions;

/// <summary>
/// rpm's order: epoch numerically (missing = 0), then version and release each by rpmvercmp: runs of
/// digits compare as numbers (longer after leading zeros wins), runs of letters as strings, a digit run
/// beats a letter run; '~' sorts before everything (even the end), '^' after the end but before anything
/// else; other separators only split runs.
/// </summary>
public static class RpmVersion
{
    /// <summary>Compares "[epoch:]version[-release]" strings.</summary>
    public static int Compare(string a, string b)
    {
        var (epochA, versionA, releaseA) = Split(a);
        var (epochB, versionB, releaseB) = Split(b);
        var epoch = epochA.CompareTo(epochB);
        if (epoch != 0)
            return Math.Sign(epoch);
        var version = VerCmp(versionA, versionB);
        if (version != 0)
            return version;
        // A range bound without a release ("1.2") matches every release of that version, as rpm's dependency rules do.
        if (releaseA is null || releaseB is null)
            return 0;
        return VerCmp(releaseA, releaseB);
    }

    static (long Epoch, string Version, string? Release) Split(string text)
    {
        text = text.Trim();
        long epoch = 0;
        var colon = text.IndexOf(':');
        if (colon > 0 && long.TryParse(text.AsSpan(0, colon), System.Globalization.NumberStyles.None, null, out var parsed))
        {
            epoch = parsed;
            text = text[(colon + 1)..];
        }
        var hyphen = text.LastIndexOf('-');
        return hyphen < 0 ? (epoch, text, null) : (epoch, text[..hyphen], text[(hyphen + 1)..]);
    }

    static bool IsAlnum(char c) => char.IsAsciiLetterOrDigit(c);

    /// <summary>rpmvercmp(3): -1, 0 or 1.</summary>
    public static int VerCmp(string a, string b)
    {
        if (a == b)
            return 0;
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            while (i < a.Length && !IsAlnum(a[i]) && a[i] != '~' && a[i] != '^') i++;
            while (j < b.Length && !IsAlnum(b[j]) && b[j] != '~' && b[j] != '^') j++;

            // Tilde: before everything else, the end included.
            var tildeA = i < a.Length && a[i] == '~';
            var tildeB = j < b.Length && b[j] == '~';
            if (tildeA || tildeB)
            {
                if (!tildeA) return 1;
                if (!tildeB) return -1;
                i++;
                j++;
                continue;
            }

            // Caret: like tilde, except that the end of the other string sorts before it.
            var caretA = i < a.Length && a[i] == '^';
            var caretB = j < b.Length && b[j] == '^';
            if (caretA || caretB)
            {
                if (i >= a.Length) return -1;
                if (j >= b.Length) return 1;
                if (!caretA) return 1;
                if (!caretB) return -1;
                i++;
                j++;
                continue;
            }

            if (i >= a.Length || j >= b.Length)
                break;

            var startA = i;
            var startB = j;
            bool numeric;
            if (char.IsAsciiDigit(a[i]))
            {
                while (i < a.Length && char.IsAsciiDigit(a[i])) i++;
                while (j < b.Length && char.IsAsciiDigit(b[j])) j++;
                numeric = true;
            }
            else
            {
                while (i < a.Length && char.IsAsciiLetter(a[i])) i++;
                while (j < b.Length && char.IsAsciiLetter(b[j])) j++;
                numeric = false;
            }
            // The runs are of different kinds: a numeric one is newer.
            if (j == startB)
                return numeric ? 1 : -1;

            var runA = a.AsSpan(startA, i - startA);
            var runB = b.AsSpan(startB, j - startB);
            if (numeric)
            {
                runA = runA.TrimStart('0');
                runB = runB.TrimStart('0');
                if (runA.Length != runB.Length)
                    return runA.Length > runB.Length ? 1 : -1;
            }
            var order = runA.SequenceCompareTo(runB);
            if (order != 0)
                return Math.Sign(order);
        }
        if (i >= a.Length && j >= b.Length)
            return 0;
        // Whichever has something left is newer.
        return i >= a.Length ? -1 : 1;
    }
}
