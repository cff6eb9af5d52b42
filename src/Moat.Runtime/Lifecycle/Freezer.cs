using Moat.Interop;

namespace Moat.Runtime.Lifecycle;

/// <summary>
/// Freezing a container's processes: the v1 freezer hierarchy (freezer.state) where the host has
/// one, else cgroup v2's cgroup.freeze. Waits until the kernel reports the new state.
/// </summary>
public static class Freezer
{
    public static void Set(IReadOnlyList<string> cgroupDirectories, bool frozen)
    {
        var v1 = cgroupDirectories.Select(d => Path.Combine(d, "freezer.state")).FirstOrDefault(File.Exists);
        if (v1 is not null)
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
        var v2 = cgroupDirectories.Select(d => Path.Combine(d, "cgroup.freeze")).FirstOrDefault(File.Exists)
                 ?? throw new RuntimeException("cannot freeze: the host has neither a v1 freezer hierarchy nor cgroup v2's cgroup.freeze");
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
