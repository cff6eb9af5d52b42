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
    /// <summary>Memory descriptors of dropped entries: closed at the next <see cref="Get"/>, not at once, since the call that dropped them may still read through its caller.</summary>
    readonly List<int> retired = [];
    readonly object gate = new();

    public Caller? Get(int tid)
    {
        lock (gate)
        {
            foreach (var fd in retired)
                close(fd);
            retired.Clear();
            if (entries.TryGetValue(tid, out var entry))
            {
                if (!PidfdExited(entry.Pidfd))
                    return entry.Caller;
                Drop(entry);
                entries.Remove(tid);
            }
        }
        // Read as the supervisor itself, not as whichever caller the thread last acted as. The pidfd
        // first: what is read after it is of the thread it names (the thread waits for this answer).
        ThreadIdentity.BeRoot();
        var pidfd = PidfdOpenThread(tid);
        var caller = Caller.Read(tid);
        if (caller is null || pidfd < 0)
        {
            if (pidfd >= 0)
                close(pidfd);
            return caller;
        }
        SetCloseOnExec(pidfd, true);
        caller.Memory = OpenMemory(tid);
        lock (gate)
        {
            if (entries.Count >= Capacity)
                Clear();
            if (entries.Remove(tid, out var old))
                Drop(old);
            entries[tid] = (caller, pidfd);
        }
        return caller;
    }

    /// <summary>The thread's credentials are about to change (a set*id call, capset): read them again next time.</summary>
    public void ForgetThread(int tid)
    {
        lock (gate)
            if (entries.Remove(tid, out var old))
                Drop(old);
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
                    Drop(entry);
                    entries.Remove(tid);
                }
            }
        }
    }

    void Clear()
    {
        foreach (var entry in entries.Values)
            Drop(entry);
        entries.Clear();
    }

    void Drop((Caller Caller, int Pidfd) entry)
    {
        close(entry.Pidfd);
        if (entry.Caller.Memory >= 0)
            retired.Add(entry.Caller.Memory);
    }

    /// <summary>/proc/TID/mem, read-only, as the supervisor (a ptrace-attach check, made once here); -1 when it cannot be opened.</summary>
    static unsafe int OpenMemory(int tid)
    {
        var path = stackalloc byte[32];
        var text = $"/proc/{tid}/mem\0";
        for (var i = 0; i < text.Length; i++)
            path[i] = (byte)text[i];
        var fd = BrokerOpenat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
        return fd < 0 ? -1 : fd;
    }
}
