namespace Moat.Cli.Output;

/// <summary>Sizes and ages as docker and podman print them (decimal units, "3 hours ago").</summary>
public static class Units
{
    static readonly string[] SizeSuffixes = ["B", "kB", "MB", "GB", "TB", "PB"];

    /// <summary>Decimal, three significant digits: 4.26MB, 217kB, 1.2GB (docker's units.HumanSize).</summary>
    public static string HumanSize(long bytes)
    {
        double value = bytes;
        var unit = 0;
        while (value >= 1000 && unit < SizeSuffixes.Length - 1)
        {
            value /= 1000;
            unit++;
        }
        return value.ToString(value >= 100 || unit == 0 ? "0" : value >= 10 ? "0.#" : "0.##", System.Globalization.CultureInfo.InvariantCulture) + SizeSuffixes[unit];
    }

    static readonly string[] BinarySuffixes = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    /// <summary>Binary, four significant digits: 1.504MiB, 7.617GiB (docker's units.BytesSize, used by stats for memory).</summary>
    public static string BinarySize(ulong bytes)
    {
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < BinarySuffixes.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) + BinarySuffixes[unit];
    }

    /// <summary>"About a minute ago", "3 hours ago", "2 weeks ago" (docker's units.HumanDuration + " ago").</summary>
    public static string Ago(DateTimeOffset when, DateTimeOffset now)
    {
        var d = now - when;
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        string text;
        if (d.TotalSeconds < 1) text = "Less than a second";
        else if (d.TotalSeconds < 2) text = "1 second";
        else if (d.TotalSeconds < 60) text = $"{(int)d.TotalSeconds} seconds";
        else if (d.TotalMinutes < 2) text = "About a minute";
        else if (d.TotalMinutes < 60) text = $"{(int)d.TotalMinutes} minutes";
        else if (d.TotalHours < 2) text = "About an hour";
        else if (d.TotalHours < 48) text = $"{(int)d.TotalHours} hours";
        else if (d.TotalDays < 14) text = $"{(int)d.TotalDays} days";
        else if (d.TotalDays < 60) text = $"{(int)(d.TotalDays / 7)} weeks";
        else if (d.TotalDays < 365 * 2) text = $"{(int)(d.TotalDays / 30)} months";
        else text = $"{(int)(d.TotalDays / 365)} years";
        return text + " ago";
    }
}
