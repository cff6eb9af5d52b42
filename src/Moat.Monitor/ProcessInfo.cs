using System.Text;
using Moat.Interop;

namespace Moat.Monitor;

/// <summary>What /proc says about a process: its start time (tells a live pid from a recycled one) and its cgroups.</summary>
public static class ProcessInfo
{
    /// <summary>Field 22 of /proc/PID/stat (clock ticks since boot), or 0 when the process is gone.</summary>
    public static ulong StartTime(int pid)
    {
        byte[]? stat;
        try
        {
            stat = Libc.TryReadFile($"/proc/{pid}/stat");
        }
        catch (SyscallException)
        {
            return 0;
        }
        if (stat is null)
            return 0;
        // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
        var text = Encoding.ASCII.GetString(stat);
        var close = text.LastIndexOf(')');
        if (close < 0)
            return 0;
        var fields = text[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state), so field 22 is fields[19].
        return fields.Length > 19 && ulong.TryParse(fields[19], out var ticks) ? ticks : 0;
    }
}
