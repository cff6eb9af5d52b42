using System.Globalization;
using Moat.Interop;

namespace Moat.Runtime.State;

/// <summary>Reads /proc/PID/stat: whether a process is alive, its state letter and its start time.</summary>
public static class ProcessInfo
{
    public readonly record struct Stat(char State, ulong StartTime);

    public static Stat? Read(int pid)
    {
        if (pid <= 0)
            return null;
        string? text;
        try
        {
            text = Libc.TryReadText($"/proc/{pid}/stat");
        }
        catch (SyscallException)
        {
            return null; // ESRCH: it died between open and read
        }
        return text is null ? null : Parse(text);
    }

    /// <summary>Parses a stat line; the command name may hold spaces and parentheses, so fields start after the last ')'.</summary>
    public static Stat? Parse(string text)
    {
        var close = text.LastIndexOf(')');
        if (close < 0)
            return null;
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state); start time is field 22.
        if (fields.Length < 20 || fields[0].Length != 1)
            return null;
        if (!ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            return null;
        return new Stat(fields[0][0], start);
    }

    /// <summary>True when pid still names the process that was started at <paramref name="startTime"/> and has not exited.</summary>
    public static bool IsAlive(int pid, ulong startTime)
    {
        var stat = Read(pid);
        return stat is { } s && s.StartTime == startTime && s.State is not ('Z' or 'X');
    }
}
