using System.Globalization;

namespace Moat.Engine.Run.Flags;

/// <summary>`--cpus` (a CFS quota over a 100 ms period, as docker converts it) and the cpuset lists (`--cpuset-cpus 0-2,4`).</summary>
public static class Cpus
{
    public const ulong Period = 100_000;

    /// <summary>The quota in microseconds per <see cref="Period"/> for `--cpus N` (1.5: 150000).</summary>
    public static long Quota(string text, int hostCpus)
    {
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var cpus))
            throw new RunFlagException($"--cpus \"{text}\" is not a number of CPUs (e.g. 1.5)");
        if (cpus == 0)
            throw new RunFlagException("--cpus 0 leaves the container no CPU time (give at least 0.01)");
        if (cpus > hostCpus)
            throw new RunFlagException($"--cpus {text} is more than this host has: the range is 0.01 to {hostCpus}");
        var quota = (long)(cpus * Period);
        // The kernel's floor for cfs_quota_us.
        if (quota < 1000)
            throw new RunFlagException($"--cpus {text} is below the smallest quota (0.01)");
        return quota;
    }

    /// <summary>Checks a cpuset list ("0-3,6") and returns it normalized (no spaces).</summary>
    public static string List(string text, string flag)
    {
        var list = text.Replace(" ", "", StringComparison.Ordinal);
        if (list.Length == 0)
            throw new RunFlagException($"{flag} is empty (give a list such as 0-3,6)");
        foreach (var item in list.Split(','))
        {
            var dash = item.IndexOf('-');
            var ok = dash < 0
                ? uint.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out _)
                : uint.TryParse(item[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var low)
                  && uint.TryParse(item[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var high) && low <= high;
            if (!ok)
                throw new RunFlagException($"{flag} \"{text}\" is not a list of numbers and ranges (e.g. 0-3,6)");
        }
        return list;
    }
}
