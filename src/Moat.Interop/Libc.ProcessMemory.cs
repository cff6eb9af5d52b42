using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Another process's memory and descriptors: process_vm_readv, pidfd_getfd (the sandbox supervisor reads a trapped call's arguments).</summary>
public static unsafe partial class Libc
{
    public const long PidfdGetfd = 438;

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint process_vm_readv(int pid, IoVec* local, ulong localCount, IoVec* remote, ulong remoteCount, ulong flags);

    /// <summary>Copies up to <paramref name="length"/> bytes at <paramref name="address"/> in <paramref name="pid"/>; the count read, or -errno.</summary>
    public static long ReadProcessMemory(int pid, ulong address, byte* buffer, int length)
    {
        var local = new IoVec { Base = buffer, Length = length };
        var remote = new IoVec { Base = (void*)address, Length = length };
        var n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        return n >= 0 ? n : -Errors.LastErrno;
    }

    /// <summary>
    /// A NUL-terminated string at <paramref name="address"/> in <paramref name="pid"/>, into <paramref name="buffer"/>
    /// (which ends up NUL-terminated). Reads page by page: a string that ends just before an unmapped page is
    /// still read. Returns its length, or -errno (EFAULT for a bad address, ENAMETOOLONG when it does not fit).
    /// </summary>
    public static int ReadProcessString(int pid, ulong address, byte* buffer, int capacity)
    {
        if (address == 0)
            return -14; // EFAULT, as the kernel answers a NULL path
        var done = 0;
        while (done < capacity)
        {
            // Up to the end of the current page, so one read never spans into an unmapped one; the first
            // read only as much as most paths need (copying the rest of a page is wasted on them).
            var pageLeft = 4096 - (int)((address + (ulong)done) & 4095);
            var chunk = Math.Min(done == 0 ? Math.Min(pageLeft, 256) : pageLeft, capacity - done);
            var n = ReadProcessMemory(pid, address + (ulong)done, buffer + done, chunk);
            if (n <= 0)
                return n == 0 ? -14 : (int)n;
            var span = new ReadOnlySpan<byte>(buffer + done, (int)n);
            var nul = span.IndexOf((byte)0);
            if (nul >= 0)
                return done + nul;
            done += (int)n;
        }
        return -36; // ENAMETOOLONG
    }

    /// <summary>
    /// The same as <see cref="ReadProcessString"/>, read through a process's /proc/PID/mem held open
    /// (<paramref name="memFd"/>): no ptrace access check per read, which process_vm_readv makes every time.
    /// </summary>
    public static int ReadProcessStringAt(int memFd, ulong address, byte* buffer, int capacity)
    {
        if (address == 0 || address > long.MaxValue)
            return -14; // EFAULT
        var done = 0;
        while (done < capacity)
        {
            var pageLeft = 4096 - (int)((address + (ulong)done) & 4095);
            var chunk = Math.Min(done == 0 ? Math.Min(pageLeft, 256) : pageLeft, capacity - done);
            var n = pread(memFd, buffer + done, chunk, (long)(address + (ulong)done));
            if (n < 0 && Errors.LastErrno == Errors.EINTR)
                continue;
            // EIO: an unmapped address; 0: the process's memory is gone (it exec'd or exited).
            if (n <= 0)
                return n == 0 ? -3 /* ESRCH */ : Errors.LastErrno == 5 ? -14 : -Errors.LastErrno;
            var span = new ReadOnlySpan<byte>(buffer + done, (int)n);
            var nul = span.IndexOf((byte)0);
            if (nul >= 0)
                return done + nul;
            done += (int)n;
        }
        return -36; // ENAMETOOLONG
    }

    /// <summary>pidfd_getfd(2): a duplicate of descriptor <paramref name="targetFd"/> of the process (close-on-exec), or -errno.</summary>
    public static int PidfdGetFd(int pidfd, int targetFd)
    {
        var fd = syscall(PidfdGetfd, pidfd, targetFd, 0, 0, 0);
        return fd >= 0 ? (int)fd : -Errors.LastErrno;
    }
}

/// <summary>Writing into another process's memory (process_vm_writev) and signalling one of its threads: the supervisor's answers to calls with output arguments.</summary>
public static unsafe partial class Libc
{
    static readonly long TgkillNumber = SyscallNumbers.Pick(234, 131, "tgkill");

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint process_vm_writev(int pid, IoVec* local, ulong localCount, IoVec* remote, ulong remoteCount, ulong flags);

    /// <summary>Copies <paramref name="length"/> bytes to <paramref name="address"/> in <paramref name="pid"/>; the count written, or -errno.</summary>
    public static long WriteProcessMemory(int pid, ulong address, byte* buffer, int length)
    {
        var local = new IoVec { Base = buffer, Length = length };
        var remote = new IoVec { Base = (void*)address, Length = length };
        var n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
        return n >= 0 ? n : -Errors.LastErrno;
    }

    /// <summary>tgkill(2): a signal to one thread of a thread group (host pids); 0 or -errno.</summary>
    public static int SignalThread(int tgid, int tid, int signal)
    {
        var r = syscall(TgkillNumber, tgid, tid, signal, 0, 0);
        return r >= 0 ? 0 : -Errors.LastErrno;
    }
}

public static unsafe partial class Libc
{
    /// <summary>pidfd_open(tid, PIDFD_THREAD) (Linux 6.9): a descriptor of one thread that polls readable when that thread exits; -errno.</summary>
    public static int PidfdOpenThread(int tid)
    {
        const int PIDFD_THREAD = 0x80; // O_EXCL
        var fd = syscall(SyscallNumbers.PidfdOpen, tid, PIDFD_THREAD, 0, 0, 0);
        return fd >= 0 ? (int)fd : -Errors.LastErrno;
    }

    /// <summary>Whether a pidfd polls readable now (its process or thread has exited); never waits.</summary>
    public static bool PidfdExited(int pidfd)
    {
        var entry = new PollFd { Fd = pidfd, Events = POLLIN };
        return poll(&entry, 1, 0) != 0;
    }
}
