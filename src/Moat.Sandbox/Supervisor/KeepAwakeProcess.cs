using System.Globalization;
using Moat.Interop;
using Moat.Runtime.Cgroups;
using static Moat.Interop.Libc;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// `moat-runtime sandbox-keep-awake`: started by a sandbox supervisor (<see cref="KeepAwake"/>) the first
/// time its container's brokered calls come fast, never by a user; lives as long as the supervisor. It
/// joins the cpu cgroup <see cref="CgroupName"/> at the top of the cpu hierarchy, with cpu.idle set, and
/// runs native/keep-awake.c's spinners. The cgroup matters: a SCHED_IDLE thread makes its CPU count as
/// idle where the kernel places a woken thread, but the preemption of the woken thread is decided
/// between the two threads' cgroups, and one whose cgroup is not idle competes there at full weight:
/// the woken thread then waited up to a tick (4 ms) behind the spinner (perf sched, 2026-12-03). A
/// cgroup with cpu.idle is preempted by any thread of a cgroup that is not.
/// </summary>
public static unsafe class KeepAwakeProcess
{
    public const string Verb = "sandbox-keep-awake";

    /// <summary>The spinners' cpu cgroup, directly under the cpu hierarchy's root (shared by every supervisor; left in place).</summary>
    public const string CgroupName = "moat-keep-awake";

    /// <summary>Exit statuses: the supervisor only reaps it (a keep-awake that cannot run leaves the calls as they were), they tell the cases apart under strace or a debugger.</summary>
    public const int NoSupervisor = 0, Usage = 2, NoIdleCgroup = 3, NoSpinner = 4;

    public static int Run(string[] args)
    {
        int supervisor = -1;
        int[]? cpus = null;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--supervisor": supervisor = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--cpus": cpus = [.. args[i + 1].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))]; break;
            }
        }
        if (supervisor <= 0 || cpus is null || cpus.Length == 0)
            return Usage;
        // Its supervisor's pidfd, opened while it is still this process's parent (else it is gone, and the pid may be another's).
        using var parent = TryPidfdOpen(supervisor);
        if (parent is null || getppid() != supervisor)
            return NoSupervisor;
        if (!JoinIdleCgroup())
            return NoIdleCgroup;
        fixed (int* list = cpus)
            return NativeKeepAwake.Serve(0, parent.Fd, list, cpus.Length) == 0 ? 0 : NoSpinner;
    }

    /// <summary>
    /// Moves this process into the idle cpu cgroup, made on first use. False where there is none to make:
    /// no cpu controller (cgroup v1 hierarchy, or enabled at the v2 root), or a kernel without cpu.idle
    /// (Linux 5.15). Without it the spinners would slow the calls down (above), so none run.
    /// </summary>
    static bool JoinIdleCgroup()
    {
        try
        {
            var host = CgroupHost.Detect();
            var hierarchy = host.V1("cpu") ?? host.Unified;
            if (hierarchy is null)
                return false;
            var directory = Path.Combine(hierarchy.MountPoint, CgroupName);
            var made = !Directory.Exists(directory);
            Directory.CreateDirectory(directory);
            var idle = Path.Combine(directory, "cpu.idle");
            if (!File.Exists(idle))
            {
                if (made)
                    Directory.Delete(directory);
                return false;
            }
            File.WriteAllText(idle, "1");
            File.WriteAllText(Path.Combine(directory, "cgroup.procs"), "0");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
