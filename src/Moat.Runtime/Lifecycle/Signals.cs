using System.Globalization;

namespace Moat.Runtime.Lifecycle;

/// <summary>Signal names and numbers as kill(1) and runc accept them: "KILL", "SIGKILL", "9".</summary>
public static class Signals
{
    static readonly Dictionary<string, int> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["HUP"] = 1, ["INT"] = 2, ["QUIT"] = 3, ["ILL"] = 4, ["TRAP"] = 5, ["ABRT"] = 6, ["IOT"] = 6, ["BUS"] = 7,
        ["FPE"] = 8, ["KILL"] = 9, ["USR1"] = 10, ["SEGV"] = 11, ["USR2"] = 12, ["PIPE"] = 13, ["ALRM"] = 14,
        ["TERM"] = 15, ["STKFLT"] = 16, ["CHLD"] = 17, ["CLD"] = 17, ["CONT"] = 18, ["STOP"] = 19, ["TSTP"] = 20,
        ["TTIN"] = 21, ["TTOU"] = 22, ["URG"] = 23, ["XCPU"] = 24, ["XFSZ"] = 25, ["VTALRM"] = 26, ["PROF"] = 27,
        ["WINCH"] = 28, ["IO"] = 29, ["POLL"] = 29, ["PWR"] = 30, ["SYS"] = 31,
    };

    public const int RtMin = 34, RtMax = 64;

    public static int Parse(string text)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            if (number is >= 1 and <= RtMax)
                return number;
            throw new RuntimeException($"invalid signal number {text}: must be between 1 and {RtMax}");
        }
        var name = text.StartsWith("SIG", StringComparison.OrdinalIgnoreCase) ? text[3..] : text;
        if (ByName.TryGetValue(name, out number))
            return number;
        // RTMIN+n and RTMAX-n, as kill(1) spells the real-time signals.
        if (name.StartsWith("RTMIN", StringComparison.OrdinalIgnoreCase))
            return RealTime(name[5..], RtMin, +1, text);
        if (name.StartsWith("RTMAX", StringComparison.OrdinalIgnoreCase))
            return RealTime(name[5..], RtMax, -1, text);
        throw new RuntimeException($"unknown signal \"{text}\"");
    }

    static int RealTime(string rest, int baseNumber, int direction, string text)
    {
        if (rest.Length == 0)
            return baseNumber;
        if (rest[0] == (direction > 0 ? '+' : '-') && int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && baseNumber + direction * n is >= RtMin and <= RtMax)
            return baseNumber + direction * n;
        throw new RuntimeException($"unknown signal \"{text}\"");
    }
}
