using static Moat.Interop.Libc;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// How a serving thread is scheduled once it answers calls with descriptors. A brokered open is three
/// wake-ups between the caller's thread and the serving thread: the trapped call; ADDFD handing the
/// descriptor over; and the caller's "installed", which ADDFD waits for. Woken with the supervisor's
/// higher weight (nice -10), the serving thread preempted the caller at that last wake-up, in the middle
/// of its system call, only to return to its receive, find nothing and switch back: four context
/// switches per open instead of two (perf stat; each is dear in this virtual machine). A SCHED_BATCH
/// thread never preempts when it is woken: the caller finishes its call and traps the next, and the
/// thread picks that up when it runs. Nice 0 with it: measured faster than batch at -10. Only from the
/// first descriptor answer on: the start of a container (hand-over, execve, answers by value) has no
/// third wake-up and keeps the weight, which there makes the supervisor run when it is woken.
/// </summary>
public static class ServingThread
{
    [ThreadStatic] static bool batch;

    /// <summary>Before an ADDFD answer: this thread becomes SCHED_BATCH, nice 0 (once; threads it starts later inherit it).</summary>
    public static void AnswersWithDescriptors()
    {
        if (batch)
            return;
        batch = true;
        // Failing leaves the thread as it was: slower, never wrong.
        if (SetThreadSchedulingPolicy(SCHED_BATCH) == 0)
            SetThreadNice(0);
    }
}
