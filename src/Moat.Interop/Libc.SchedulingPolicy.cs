using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// The scheduling policy of the calling thread: the sandbox supervisor's threads run SCHED_BATCH, which
/// the kernel never lets preempt a running thread when it is woken (docs/sandbox.md, figures).
/// </summary>
public static unsafe partial class Libc
{
    public const int SCHED_OTHER = 0, SCHED_BATCH = 3;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setscheduler(int pid, int policy, int* param);

    /// <summary>sched_setscheduler(0, policy, priority 0): on Linux, the calling thread only (threads it starts later inherit it); 0 or -errno.</summary>
    public static int SetThreadSchedulingPolicy(int policy)
    {
        var priority = 0;
        return sched_setscheduler(0, policy, &priority) == 0 ? 0 : -Errors.LastErrno;
    }
}
