using System.Globalization;
using Moat.Interop;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// Reading and writing cgroupfs interface files. Writes are one write(2) per value, as the kernel
/// parses each write as one request; the file is opened with O_TRUNC (a no-op on cgroupfs) so that a
/// plain file in a test tree holds exactly the last value written.
/// </summary>
internal static class CgroupFile
{
    /// <summary>Writes one value; throws <see cref="SyscallException"/> with the kernel's errno.</summary>
    public static void Write(string path, string value)
    {
        using var fd = Libc.Open(path, Libc.O_WRONLY | Libc.O_TRUNC | Libc.O_NOCTTY);
        Libc.WriteAll(fd.Fd, System.Text.Encoding.UTF8.GetBytes(value), path);
    }

    /// <summary>The file's text, or null when it does not exist or cannot be read.</summary>
    public static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Reads a single-value file such as memory.current ("max" is <see cref="ulong.MaxValue"/>).</summary>
    public static ulong? TryReadUlong(string path) =>
        TryRead(path) is { } text ? ParseUlong(text.Trim(), path) : null;

    /// <summary>
    /// A cgroup number: "max" is unlimited (<see cref="ulong.MaxValue"/>), a negative value (v1 reports
    /// -1 for unlimited in some files, and kernel bugs can make counters negative) is 0.
    /// </summary>
    public static ulong ParseUlong(string text, string path)
    {
        if (text == "max")
            return ulong.MaxValue;
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            return value;
        if (text.StartsWith('-') && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            return 0;
        throw new RuntimeException($"cannot parse \"{text}\" in {path} as a number");
    }

    /// <summary>"key value" lines (cpu.stat, memory.stat, memory.events, memory.oom_control) as a map, in file order.</summary>
    public static List<KeyValuePair<string, ulong>> ParseKeyValues(string text, string path)
    {
        var result = new List<KeyValuePair<string, ulong>>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
                throw new RuntimeException($"malformed line \"{line}\" in {path}: expected \"key value\"");
            result.Add(new(parts[0], ParseUlong(parts[1], path)));
        }
        return result;
    }

    /// <summary>One key of a "key value" file, or null when the file or the key is missing.</summary>
    public static ulong? TryReadKey(string path, string key)
    {
        if (TryRead(path) is not { } text)
            return null;
        foreach (var (k, v) in ParseKeyValues(text, path))
            if (k == key)
                return v;
        return null;
    }

    /// <summary>The whitespace-separated words of a file such as cgroup.controllers, or null when unreadable.</summary>
    public static HashSet<string>? TryReadWords(string path) =>
        TryRead(path) is { } text ? text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal) : null;

    /// <summary>Expands a cpu or memory-node list ("0-3,7") into its numbers.</summary>
    public static List<ushort> ParseList(string text, string path)
    {
        var result = new List<ushort>();
        foreach (var part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var range = part.Split('-');
            if (range.Length is < 1 or > 2
                || !ushort.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                || !ushort.TryParse(range[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var to)
                || to < from)
                throw new RuntimeException($"malformed list \"{text.Trim()}\" in {path}");
            for (var i = from; i <= to; i++)
            {
                result.Add(i);
                if (i == ushort.MaxValue)
                    break;
            }
        }
        return result;
    }
}
