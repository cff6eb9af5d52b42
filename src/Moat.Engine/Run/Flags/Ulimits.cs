using System.Globalization;
using Moat.Images.Bundles;
using Moat.Oci;

namespace Moat.Engine.Run.Flags;

/// <summary>`--ulimit NAME=SOFT[:HARD]` with docker's names (nofile, nproc, core...); -1 or unlimited is no limit.</summary>
public static class Ulimits
{
    static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["core"] = "RLIMIT_CORE", ["cpu"] = "RLIMIT_CPU", ["data"] = "RLIMIT_DATA", ["fsize"] = "RLIMIT_FSIZE",
        ["locks"] = "RLIMIT_LOCKS", ["memlock"] = "RLIMIT_MEMLOCK", ["msgqueue"] = "RLIMIT_MSGQUEUE", ["nice"] = "RLIMIT_NICE",
        ["nofile"] = "RLIMIT_NOFILE", ["nproc"] = "RLIMIT_NPROC", ["rss"] = "RLIMIT_RSS", ["rtprio"] = "RLIMIT_RTPRIO",
        ["rttime"] = "RLIMIT_RTTIME", ["sigpending"] = "RLIMIT_SIGPENDING", ["stack"] = "RLIMIT_STACK", ["as"] = "RLIMIT_AS",
    };

    public static Ulimit Parse(string text)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0)
            throw new RunFlagException($"--ulimit \"{text}\" is not NAME=SOFT[:HARD] (e.g. nofile=1024:2048)");
        var name = text[..eq];
        if (!Names.TryGetValue(name, out var type))
            throw new RunFlagException($"--ulimit \"{text}\": unknown limit \"{name}\" (known: {string.Join(", ", Names.Keys.Order(StringComparer.Ordinal))})");
        var limits = text[(eq + 1)..].Split(':');
        if (limits.Length > 2)
            throw new RunFlagException($"--ulimit \"{text}\" is not NAME=SOFT[:HARD]");
        var soft = Value(limits[0], text);
        var hard = limits.Length == 2 ? Value(limits[1], text) : soft;
        if (soft > hard)
            throw new RunFlagException($"--ulimit \"{text}\": the soft limit {limits[0]} is above the hard limit {limits[1]}");
        return new Ulimit(type, soft, hard);
    }

    static ulong Value(string text, string whole)
    {
        if (text is "-1" or "unlimited")
            return Rlimits.Infinity;
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new RunFlagException($"--ulimit \"{whole}\": \"{text}\" is not a number (or -1 for unlimited)");
    }
}
