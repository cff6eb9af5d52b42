using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Processes, signals, pidfds and the wait family.</summary>
public static unsafe partial class Libc
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGUSR1 = 10, SIGPIPE = 13, SIGTERM = 15,
        SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGWINCH = 28;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getpid();

    [LibraryImport("libc")]
    public static partial int getppid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
    public const int PR_SET_PDEATHSIG = 1, PR_SET_KEEPCAPS = 8, PR_SET_NAME = 15, PR_CAPBSET_READ = 23,
        PR_CAPBSET_DROP = 24, PR_SET_CHILD_SUBREAPER = 36, PR_SET_NO_NEW_PRIVS = 38, PR_CAP_AMBIENT = 47;
    public const ulong PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_CLEAR_ALL = 4;

    public static void Prctl(int option, ulong arg2, string what, ulong arg3 = 0) =>
        Errors.Check(prctl(option, arg2, arg3, 0, 0), "prctl", what);

    public static FileDescriptor PidfdOpen(int pid) =>
        new((int)Errors.Check(syscall(SyscallNumbers.PidfdOpen, pid, 0, 0, 0, 0), "pidfd_open", pid.ToString()));

    /// <summary>pidfd_open that reports a vanished process as null instead of throwing.</summary>
    public static FileDescriptor? TryPidfdOpen(int pid)
    {
        var fd = (int)syscall(SyscallNumbers.PidfdOpen, pid, 0, 0, 0, 0);
        if (fd >= 0)
            return new FileDescriptor(fd);
        if (Errors.LastErrno == Errors.ESRCH)
            return null;
        throw new SyscallException("pidfd_open", Errors.LastErrno, pid.ToString());
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sigaction(int signum, byte* action, byte* oldAction);

    // struct sigaction on x86-64 glibc: handler, 128-byte mask, flags, restorer.
    const int SigactionSize = 152;
    const nint SIG_IGN = 1;

    /// <summary>
    /// Gives an ignored signal its default action back (and leaves a caught one alone). A process
    /// started under nohup inherits SIGHUP ignored; the runtime's own handler, which forwards it,
    /// is then never called (Go's signal.Notify, as in runc, undoes the inherited ignore too).
    /// </summary>
    public static void DefaultIfIgnored(int signal)
    {
        var old = stackalloc byte[SigactionSize];
        Errors.Check(sigaction(signal, null, old), "sigaction");
        if (*(nint*)old != SIG_IGN)
            return;
        var action = stackalloc byte[SigactionSize];
        new Span<byte>(action, SigactionSize).Clear(); // SIG_DFL, empty mask, no flags
        Errors.Check(sigaction(signal, action, null), "sigaction");
    }

    /// <summary>
    /// Ignores a signal (SIG_IGN). Ignored signals stay ignored across execve: a child that must not
    /// inherit that is started with <see cref="Spawn(string, IReadOnlyList{string}, IReadOnlyList{string}, int, int, int, bool)"/>'s
    /// defaultSignals.
    /// </summary>
    public static void Ignore(int signal)
    {
        var action = stackalloc byte[SigactionSize];
        new Span<byte>(action, SigactionSize).Clear();
        *(nint*)action = SIG_IGN;
        Errors.Check(sigaction(signal, action, null), "sigaction");
    }

    public static int PidfdSendSignal(FileDescriptor pidfd, int signal) =>
        (int)syscall(SyscallNumbers.PidfdSendSignal, pidfd.Fd, signal, 0, 0, 0);

    /// <summary>Closes the descriptors <paramref name="first"/> to <paramref name="last"/> in one call (close_range, Linux 5.9); 0 or -errno.</summary>
    public static int CloseRange(uint first, uint last) =>
        syscall(SyscallNumbers.CloseRange, first, last, 0, 0, 0) == 0 ? 0 : -Errors.LastErrno;

    /// <summary>Marks every descriptor from <paramref name="first"/> up close-on-exec.</summary>
    public static void CloseRangeOnExec(uint first)
    {
        const long CLOSE_RANGE_CLOEXEC = 4;
        Errors.Check(syscall(SyscallNumbers.CloseRange, first, uint.MaxValue, CLOSE_RANGE_CLOEXEC, 0, 0), "close_range");
    }

    public const int P_PID = 1, P_PIDFD = 3, WEXITED = 4, WNOHANG = 1, WNOWAIT = 0x01000000;
    public const int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    public struct SigInfo
    {
        [FieldOffset(0)] public int Signo;
        [FieldOffset(4)] public int Errno;
        [FieldOffset(8)] public int Code;
        [FieldOffset(16)] public int Pid;
        [FieldOffset(20)] public uint Uid;
        [FieldOffset(24)] public int Status;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int waitid(int idtype, int id, SigInfo* info, int options);

    /// <summary>Waits for the process behind a pidfd and returns its status the shell way (code, or 128+signal).</summary>
    public static int WaitExitCode(FileDescriptor pidfd)
    {
        SigInfo info = default;
        int result;
        do
            result = waitid(P_PIDFD, pidfd.Fd, &info, WEXITED);
        while (result < 0 && Errors.LastErrno == Errors.EINTR);
        Errors.Check(result, "waitid");
        return info.Code == CLD_EXITED ? info.Status : 128 + info.Status;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    /// <summary>Waits for this process's child <paramref name="pid"/> to end and reaps it: its exit status the shell way (code, or 128+signal), or -1 when it is not a child to wait for.</summary>
    public static int Reap(int pid)
    {
        int status = 0, result;
        while ((result = waitpid(pid, &status, 0)) < 0 && Errors.LastErrno == Errors.EINTR)
        {
        }
        if (result < 0)
            return -1;
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int execve(string path, IntPtr* argv, IntPtr* envp);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int execv(string path, IntPtr* argv);

    /// <summary>
    /// Replaces this process with another program, same environment (execv(3)); descriptors opened
    /// close-on-exec go, inherited ones stay. Returns only by throwing.
    /// </summary>
    public static void ExecReplacing(string path, IReadOnlyList<string> argv)
    {
        // Never freed: on success the process image is gone, and a failure is followed by an exit.
        var array = (IntPtr*)Marshal.AllocHGlobal(sizeof(IntPtr) * (argv.Count + 1));
        for (var i = 0; i < argv.Count; i++)
            array[i] = Marshal.StringToCoTaskMemUTF8(argv[i]);
        array[argv.Count] = IntPtr.Zero;
        execv(path, array);
        throw new SyscallException("execve", Errors.LastErrno, path);
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int personality(ulong persona);

    [StructLayout(LayoutKind.Sequential)]
    public struct RLimit
    {
        public ulong Soft, Hard;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int prlimit(int pid, int resource, RLimit* newLimit, RLimit* oldLimit);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sched_getaffinity(int pid, nint size, byte* mask);
}
