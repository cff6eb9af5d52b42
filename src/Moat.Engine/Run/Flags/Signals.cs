using System.Globalization;

namespace Moat.Engine.Run.Flags;

/// <summary>Signal names and numbers as `--stop-signal` and `kill -s` take them: SIGTERM, TERM, 15, SIGRTMIN+3.</summary>
public static class Signals
{
    static readonly string[] Names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
        "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    const int RtMin = 34, RtMax = 64;

    /// <summary>The signal's number; a clear error for anything else.</summary>
    public static int Parse(string text, string flag)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return number is >= 1 and <= RtMax ? number : throw Bad(text, flag);
        var name = text.ToUpperInvariant();
        if (name.StartsWith("SIG", StringComparison.Ordinal))
            name = name[3..];
        var index = Array.IndexOf(Names, name);
        if (index > 0)
            return index;
        if (name is "IOT") return 6;
        if (name is "CLD") return 17;
        if (name is "POLL") return 29;
        if (name.StartsWith("RTMIN", StringComparison.Ordinal) && Offset(name[5..], out var plus) && RtMin + plus <= RtMax)
            return RtMin + plus;
        if (name.StartsWith("RTMAX", StringComparison.Ordinal) && Offset(name[5..], out var minus) && RtMax + minus >= RtMin)
            return RtMax + minus;
        throw Bad(text, flag);
    }

    /// <summary>The SIG-prefixed name of a signal number (SIGRTMIN+N for the real-time ones).</summary>
    public static string Name(int number) =>
        number is > 0 and < 32 ? "SIG" + Names[number] : number is >= RtMin and <= RtMax ? $"SIGRTMIN+{number - RtMin}" : number.ToString(CultureInfo.InvariantCulture);

    static bool Offset(string text, out int offset)
    {
        offset = 0;
        return text.Length == 0 || int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out offset);
    }

    static RunFlagException Bad(string text, string flag) => new($"{flag} \"{text}\" is not a signal (a name such as SIGTERM or a number from 1 to 64)");
}
