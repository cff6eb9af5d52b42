using Moat.Interop;

namespace Moat.Monitor;

/// <summary>
/// The container's OOM kills, counted by its memory cgroup: `oom_kill` in memory.events (cgroup v2)
/// or in memory.oom_control (cgroup v1, Linux 4.13 and later). The cgroup is found from the init's
/// /proc/PID/cgroup while it runs; the count read then is the baseline, and a larger count after the
/// exit (the runtime deletes the cgroup only later) means the kernel's OOM killer struck during that run.
/// What cannot be known: a kill in a cgroup the runtime did not make (no memory controller, or the
/// runtime put the container in the monitor's own cgroup) is not seen; <see cref="Found"/> says so.
/// </summary>
public sealed class OomCounter
{
    readonly string? file;
    readonly long baseline;

    OomCounter(string? file)
    {
        this.file = file;
        baseline = file is null ? 0 : Read(file) ?? 0;
    }

    public bool Found => file is not null;

    public static OomCounter ForProcess(int pid)
    {
        string? cgroupText;
        try
        {
            cgroupText = Libc.TryReadText($"/proc/{pid}/cgroup");
        }
        catch (SyscallException)
        {
            cgroupText = null;
        }
        return new OomCounter(cgroupText is null ? null : CounterFile(cgroupText));
    }

    /// <summary>Whether the count grew since the baseline.</summary>
    public bool Killed() => file is not null && Read(file) is { } now && now > baseline;

    static string? CounterFile(string cgroupText)
    {
        string? unified = null;
        foreach (var line in cgroupText.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3)
                continue;
            if (parts[1].Split(',').Contains("memory"))
            {
                var v1 = $"/sys/fs/cgroup/memory{parts[2]}/memory.oom_control";
                if (File.Exists(v1))
                    return v1;
            }
            else if (parts[0] == "0" && parts[1].Length == 0)
                unified = parts[2];
        }
        if (unified is null)
            return null;
        // Pure v2 mounts the hierarchy at /sys/fs/cgroup; a hybrid host at /sys/fs/cgroup/unified.
        foreach (var mount in new[] { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" })
        {
            var events = $"{mount}{unified.TrimEnd('/')}/memory.events";
            if (File.Exists(events))
                return events;
        }
        return null;
    }

    static long? Read(string file)
    {
        string? text;
        try
        {
            text = Libc.TryReadText(file);
        }
        catch (SyscallException)
        {
            return null;
        }
        if (text is null)
            return null;
        foreach (var line in text.Split('\n'))
            if (line.StartsWith("oom_kill ", StringComparison.Ordinal) && long.TryParse(line.AsSpan(9), out var count))
                return count;
        return null;
    }
}
