using Moat.Interop;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// Moving a process into a cgroup v1 hierarchy takes the kernel's cgroup_threadgroup_rwsem for
/// writing, and the first such write after a quiet spell waits a whole RCU grace period
/// (15-25 ms measured on this kind of host; crun and runc pay it too). Later writes within about one
/// grace period are fast. So create and exec start that wait at once, on a thread of its own, by
/// writing "0" (the writer itself) into the cgroup.procs of the cgroup this process is already in:
/// a migration that moves nothing. The grace period then passes while the config is parsed and the
/// init starts up, and the real move of the container's process no longer waits.
/// The waiting writer holds cgroup_mutex, so mkdir in any hierarchy (and clone3 with
/// CLONE_INTO_CGROUP) waits behind it too: that is why create does its cgroup work after the clone
/// on such hosts (see ContainerCreator).
/// Pure cgroup v2 hosts need none of this: the process is born in its cgroup (CLONE_INTO_CGROUP).
/// </summary>
public static class MigrationWarmup
{
    public static void Start(CgroupHost host)
    {
        if (host.IsPureV2 || host.Hierarchies.FirstOrDefault(h => !h.IsV2 && h.Root == "/") is not { } hierarchy)
            return;
        var own = OwnCgroup(hierarchy);
        if (own is null)
            return;
        var procs = Path.Combine(hierarchy.DirectoryFor(own == "/" ? "" : own), "cgroup.procs");
        // A native thread: a managed Thread.Start spins in sched_yield until the new thread has
        // joined the .NET runtime, which on a loaded host took longer than the grace period itself.
        try
        {
            _ = NativeSpawn.WriteDetached(procs, "0");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not moat-runtime (the helper is linked only there): a managed thread does the same.
            new Thread(() => WriteIgnoringErrors(procs), maxStackSize: 64 * 1024) { IsBackground = true, Name = "cgroup warm-up" }.Start();
        }
    }

    static void WriteIgnoringErrors(string procs)
    {
        try
        {
            Libc.WriteFile(procs, "0");
        }
        catch (SyscallException)
        {
            // Only an optimisation: the real move reports its own errors.
        }
    }

    /// <summary>This process's cgroup in the hierarchy, from /proc/self/cgroup ("ID:controllers:path").</summary>
    static string? OwnCgroup(CgroupHierarchy hierarchy)
    {
        // open, read, close: File.ReadLines would add FileStream's fstat and flock calls.
        if (Libc.TryReadFile("/proc/self/cgroup") is not { } bytes)
            return null;
        foreach (var line in System.Text.Encoding.UTF8.GetString(bytes).Split('\n'))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3 && parts[1].Split(',').Any(hierarchy.Has))
                return parts[2];
        }
        return null;
    }
}
