using System.Globalization;

namespace Moat.Engine.Run.Flags;

/// <summary>Durations in Go's syntax (time.ParseDuration), as docker's --health-* flags take them: 30s, 1m30s, 1.5h, 500ms, 0.</summary>
public static class GoDuration
{
    static readonly (string Unit, double Ticks)[] Units =
    [
        ("ns", 0.01), ("us", 10), ("µs", 10), ("μs", 10), ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond), ("m", TimeSpan.TicksPerMinute), ("h", TimeSpan.TicksPerHour),
    ];

    public static TimeSpan Parse(string text, string flag)
    {
        var bad = new RunFlagException($"{flag} \"{text}\" is not a duration (a number and a unit: ns, us, ms, s, m, h, e.g. 1m30s)");
        var s = text.Trim();
        var negative = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }
        if (s == "0")
            return TimeSpan.Zero;
        if (s.Length == 0)
            throw bad;
        double ticks = 0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
                i++;
            if (i == start || !double.TryParse(s[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
                throw bad;
            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.')
                i++;
            var unit = s[unitStart..i];
            var match = Array.FindIndex(Units, u => u.Unit == unit);
            if (match < 0)
                throw bad;
            ticks += number * Units[match].Ticks;
        }
        if (ticks > TimeSpan.MaxValue.Ticks)
            throw new RunFlagException($"{flag} \"{text}\" is too long");
        var result = TimeSpan.FromTicks((long)ticks);
        return negative ? -result : result;
    }
}
