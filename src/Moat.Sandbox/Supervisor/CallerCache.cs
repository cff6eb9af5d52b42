using static Moat.Interop.Libc;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// Each thread's credentials between its calls, so that a brokered open does not read /proc/TID/status
/// (the heaviest part of the supervisor's work) every time. Sound because a thread's credentials change
/// only through calls the supervisor sees first: the set*id family, setgroups, capset and umask are
/// notified (and continue after the entry is dropped; their decision is the kernel's), execve drops the
/// process's entries; and an entry holds a thread pidfd (PIDFD_THREAD), which polls readable once that
/// thread is gone, so a reused thread id never meets a dead thread's credentials. Without thread pidfds
/// (before Linux 6.9) nothing is cached.
/// </summary>
public sealed class CallerCache
{
    const int Capacity = 256;
    readonly Dictionary<int, (Caller Caller, int Pidfd)> entries = [];
    readonly object gate = new();

    public Caller? Get(int tid)
    {
        lock (gate)
        {
            if (entries.TryGetValue(tid, out var entry))
            {
                if (!PidfdExited(entry.Pidfd))
                    return entry.Caller;
                close(entry.Pidfd);
                entries.Remove(tid);
            }
        }
        // Read as the supervisor itself, not as whichever caller the thread last acted as.
        ThreadIdentity.BeRoot();
        var caller = Caller.Read(tid);
        if (caller is null)
            return null;
        var pidfd = PidfdOpenThread(tid);
        if (pidfd < 0)
            return caller;
        SetCloseOnExec(pidfd, true);
        lock (gate)
        {
            if (entries.Count >= Capacity)
                Clear();
            if (entries.Remove(tid, out var old))
                close(old.Pidfd);
            entries[tid] = (caller, pidfd);
        }
        return caller;
    }

    /// <summary>The thread's credentials are about to change (a set*id call, capset): read them again next time.</summary>
    public void ForgetThread(int tid)
    {
        lock (gate)
            if (entries.Remove(tid, out var old))
                close(old.Pidfd);
    }

    /// <summary>Every thread of a process (its execve), or everything (umask: threads and vfork children may share it).</summary>
    public void ForgetProcess(int? tgid)
    {
        lock (gate)
        {
            foreach (var (tid, entry) in entries.ToList())
            {
                if (tgid is null || entry.Caller.Tgid == tgid)
                {
                    close(entry.Pidfd);
                    entries.Remove(tid);
                }
            }
        }
    }

    void Clear()
    {
        foreach (var entry in entries.Values)
            close(entry.Pidfd);
        entries.Clear();
    }
}
