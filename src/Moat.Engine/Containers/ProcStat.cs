using System.Globalization;
using Moat.Interop;

namespace Moat.Engine.Containers;

/// <summary>/proc/PID/stat: whether a pid is still the process we started (start time, field 22) and not a zombie.</summary>
public static class ProcStat
{
    /// <summary>Field 22 (start time in clock ticks since boot), or null when the process is gone or a zombie.</summary>
    public static ulong? StartTime(int pid)
    {
        if (pid <= 0)
            return null;
        var text = Libc.TryReadText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        if (text is null)
            return null;
        // comm (field 2) is in parentheses and may hold spaces or ')': fields count from the last ')'.
        var close = text.LastIndexOf(')');
        if (close < 0)
            return null;
        var fields = text[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state), so field 22 is fields[19].
        if (fields.Length < 20 || fields[0] is "Z" or "X")
            return null;
        return ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start) ? start : null;
    }

    /// <summary>Whether <paramref name="pid"/> is alive and is the process that started at <paramref name="startTime"/>.</summary>
    public static bool IsAlive(int pid, ulong startTime) => startTime != 0 && StartTime(pid) == startTime;
}
