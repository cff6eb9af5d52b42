using Moat.Interop;

namespace Moat.Runtime.Lifecycle;

/// <summary>
/// Freezing a container's processes: the v1 freezer hierarchy (freezer.state) where the host has
/// one, else cgroup v2's cgroup.freeze. Waits until the kernel reports the new state.
/// </summary>
public static class Freezer
{
    /// <summary>Paused: the v1 freezer says FROZEN, or (without one) cgroup.freeze is 1.</summary>
    public static bool IsFrozen(IReadOnlyList<string> cgroupDirectories)
    {
        if (Find(cgroupDirectories, "freezer.state") is { } v1)
            return v1.Value == "FROZEN";
        return Find(cgroupDirectories, "cgroup.freeze")?.Value is "1";
    }

    /// <summary>Thaws the container if it is frozen or freezing: a frozen process cannot die.</summary>
    public static void EnsureThawed(IReadOnlyList<string> cgroupDirectories)
    {
        var thawed = Find(cgroupDirectories, "freezer.state") is { } v1
            ? v1.Value == "THAWED"
            : Find(cgroupDirectories, "cgroup.freeze")?.Value is null or "0";
        if (!thawed)
            Set(cgroupDirectories, frozen: false);
    }

    /// <summary>The first of the directories that has the file: its path and trimmed content, or null.</summary>
    static (string Path, string Value)? Find(IReadOnlyList<string> directories, string file)
    {
        foreach (var directory in directories)
        {
            var path = Path.Combine(directory, file);
            if (Libc.TryReadText(path) is { } text)
                return (path, text.Trim());
        }
        return null;
    }

    public static void Set(IReadOnlyList<string> cgroupDirectories, bool frozen)
    {
        if (Find(cgroupDirectories, "freezer.state")?.Path is { } v1)
        {
            var wanted = frozen ? "FROZEN" : "THAWED";
            Write(v1, wanted);
            // FREEZING while tasks are being stopped: write again until the kernel settles (runc does the same).
            WaitFor(() =>
            {
                var state = File.ReadAllText(v1).Trim();
                if (state != wanted)
                    Write(v1, wanted);
                return state == wanted;
            }, v1);
            return;
        }
        var v2 = Find(cgroupDirectories, "cgroup.freeze")?.Path ?? throw new RuntimeException("cannot freeze: the host has neither a v1 freezer hierarchy nor cgroup v2's cgroup.freeze");
        Write(v2, frozen ? "1" : "0");
        var events = Path.Combine(Path.GetDirectoryName(v2)!, "cgroup.events");
        WaitFor(() => File.ReadLines(events).Any(l => l == (frozen ? "frozen 1" : "frozen 0")), events);
    }

    static void Write(string file, string value)
    {
        try
        {
            Libc.WriteFile(file, value);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"cannot write {value} to {file}: {e.Message}", e);
        }
    }

    static void WaitFor(Func<bool> done, string what)
    {
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            if (done())
                return;
            Thread.Sleep(attempt < 50 ? 1 : 10);
        }
        throw new RuntimeException($"{what}: the kernel did not finish changing the freezer state");
    }
}
