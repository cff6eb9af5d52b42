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
        // Field 3 (the state) is the first after ')', the start time field 22: counted without
        // allocating the 50 strings a Split would make.
        var rest = text.AsSpan(close + 1);
        var index = 0;
        ReadOnlySpan<char> state = default;
        foreach (var range in rest.Split(' '))
        {
            var field = rest[range];
            if (field.IsEmpty)
                continue;
            if (index == 0)
                state = field;
            else if (index == 19)
            {
                if (state.Length != 1 || !ulong.TryParse(field.TrimEnd('\n'), NumberStyles.None, CultureInfo.InvariantCulture, out var start))
                    return null;
                return new Stat(state[0], start);
            }
            index++;
        }
        return null;
    }

    /// <summary>True when pid still names the process that was started at <paramref name="startTime"/> and has not exited.</summary>
    public static bool IsAlive(int pid, ulong startTime)
    {
        var stat = Read(pid);
        return stat is { } s && s.StartTime == startTime && s.State is not ('Z' or 'X');
    }
}
