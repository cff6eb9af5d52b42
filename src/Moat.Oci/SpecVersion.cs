namespace Moat.Oci;

/// <summary>The runtime-spec versions this model implements and accepts.</summary>
public static class SpecVersion
{
    /// <summary>Written into generated specs and reported as ociVersionMax.</summary>
    public const string Current = "1.2.0";

    /// <summary>Reported as ociVersionMin; every 1.x document is accepted.</summary>
    public const string Minimum = "1.0.0";

    /// <summary>Parses a SemVer 2.0.0 version string ("1.2.0", "1.0.2-dev", "1.1.0+build").</summary>
    public static bool TryParse(string? version, out int major, out int minor, out int patch)
    {
        major = minor = patch = 0;
        if (string.IsNullOrEmpty(version))
        {
            return false;
        }

        // Pre-release and build metadata do not change compatibility, so only their presence is checked.
        var core = version;
        var suffixStart = core.IndexOfAny(['-', '+']);
        if (suffixStart >= 0)
        {
            if (suffixStart == core.Length - 1)
            {
                return false;
            }
            core = core[..suffixStart];
        }

        var parts = core.Split('.');
        return parts.Length == 3
            && TryParseNumber(parts[0], out major)
            && TryParseNumber(parts[1], out minor)
            && TryParseNumber(parts[2], out patch);
    }

    private static bool TryParseNumber(string text, out int value)
    {
        value = 0;
        // SemVer forbids leading zeros and signs.
        if (text.Length == 0 || (text.Length > 1 && text[0] == '0') || !text.All(char.IsAsciiDigit))
        {
            return false;
        }
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);
    }
}
