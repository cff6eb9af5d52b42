using Moat.Engine.Stats;
using Moat.Images.Storage;
using Moat.Interop;

namespace Moat.Engine.Containers;

/// <summary>
/// Keeps the kernel's cgroup migration lock warm while a container's monitor and runtime start. On a host
/// with cgroup v1 hierarchies, the runtime's move of the init into them takes cgroup_threadgroup_rwsem for
/// writing, and the first such write after a quiet spell waits a whole RCU grace period (7-15 ms here);
/// writes that follow within about one grace period do not wait. moat-runtime starts that wait itself
/// (Moat.Runtime's MigrationWarmup), but only once it runs, too late to hide it. So `moat create`/`run`/`start`
/// write "0" (a move of this process into the cgroup it is in: nothing moves) into its own cgroup.procs
/// from a native thread at once and every few milliseconds after, until the monitor reports the create
/// (docs/performance.md). Pure cgroup v2 hosts need none of this: there the init is born in its cgroup.
/// </summary>
public sealed class MigrationWarmth : IDisposable
{
    /// <summary>A write every 3 ms: well inside a grace period, ~20 µs of kernel time each.</summary>
    const int IntervalMicroseconds = 3000;
    /// <summary>A bound for a create that hangs: the monitor's own timeout is far longer, the warmth is not worth it.</summary>
    const int LimitMilliseconds = 2000;

    readonly bool writing;

    MigrationWarmth(bool writing) => this.writing = writing;

    /// <summary>Starts the writes where they help (root, a v1 hierarchy); otherwise a no-op.</summary>
    public static MigrationWarmth Start()
    {
        if (Libc.geteuid() != 0 || RootlessIdentity.Active || OwnV1CgroupProcs() is not { } procs)
            return new MigrationWarmth(false);
        try
        {
            return new MigrationWarmth(NativeSpawn.KeepWriting(procs, "0", IntervalMicroseconds, LimitMilliseconds) == 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not the moat executable (the helper is linked into it): only an optimisation.
            return new MigrationWarmth(false);
        }
    }

    /// <summary>cgroup.procs of this process's cgroup in a v1 hierarchy (cpu first: every v1 host has it), or null.</summary>
    static string? OwnV1CgroupProcs()
    {
        var locator = new CgroupLocator();
        foreach (var controller in (string[])["cpu", "pids", "memory"])
            if (locator.Find(Environment.ProcessId, controller) is { IsV2: false } directory)
                return Path.Combine(directory.Path, "cgroup.procs");
        return null;
    }

    public void Dispose()
    {
        if (writing)
            NativeSpawn.StopWriting();
    }
}
