using System.Globalization;
using System.Text.RegularExpressions;

namespace Moat.Engine.Run.Flags;

/// <summary>
/// Sizes as docker writes them: a number with an optional unit b, k, m, g, t or p (any case, an optional
/// trailing "b" or "ib": 512m, 1.5g, 64MiB, 100). <see cref="Parse"/> counts in 1024s, as docker's
/// RAMInBytes does for --memory, --shm-size, tmpfs-size; <see cref="ParseDecimal"/> in 1000s, as docker's
/// FromHumanSize does for the log's max-size.
/// </summary>
public static partial class ByteSize
{
    [GeneratedRegex(@"^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$")]
    private static partial Regex Pattern();

    public static long Parse(string text, string flag) => ParseWith(text, flag, 1024);

    public static long ParseDecimal(string text, string flag) => ParseWith(text, flag, 1000);

    static long ParseWith(string text, string flag, int unitBase)
    {
        var match = Pattern().Match(text.Trim());
        if (!match.Success)
            throw new RunFlagException($"{flag} \"{text}\" is not a size (a number with an optional unit b, k, m or g, such as 512m)");
        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var exponent = match.Groups[2].Success ? "kmgtp".IndexOf(char.ToLowerInvariant(match.Groups[2].Value[0])) + 1 : 0;
        var bytes = number * Math.Pow(unitBase, exponent);
        if (bytes >= long.MaxValue)
            throw new RunFlagException($"{flag} \"{text}\" is too large");
        return (long)bytes;
    }
}
