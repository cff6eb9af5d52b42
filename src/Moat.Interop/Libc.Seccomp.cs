using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// seccomp(2) without libseccomp (the init stage loads a program compiled earlier), and the unix
/// socket calls that hand a seccomp listener descriptor to a supervisor (SCM_RIGHTS).
/// </summary>
public static unsafe partial class Libc
{
    public const uint SECCOMP_SET_MODE_FILTER = 1, SECCOMP_GET_ACTION_AVAIL = 2;
    public const uint SECCOMP_FILTER_FLAG_TSYNC = 1, SECCOMP_FILTER_FLAG_LOG = 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4,
        SECCOMP_FILTER_FLAG_NEW_LISTENER = 8, SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16,
        SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;

    /// <summary>BPF_MAXINSNS: the most instructions the kernel accepts in one filter.</summary>
    public const int BPF_MAXINSNS = 4096;

    /// <summary>struct sock_fprog: the length in instructions and a pointer to struct sock_filter[].</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockFprog
    {
        public ushort Len;
        public void* Filter;
    }

    /// <summary>
    /// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): installs a classic BPF program on the calling
    /// thread (every thread with TSYNC). Returns the listener descriptor when NEW_LISTENER is set,
    /// otherwise 0. The caller must have no_new_privs set or CAP_SYS_ADMIN.
    /// </summary>
    public static int SeccompSetModeFilter(ReadOnlySpan<byte> program, uint flags)
    {
        fixed (byte* p = program)
        {
            var fprog = new SockFprog { Len = (ushort)(program.Length / 8), Filter = p };
            return (int)Errors.Check(syscall(SyscallNumbers.Seccomp, SECCOMP_SET_MODE_FILTER, flags, (long)&fprog, 0, 0),
                "seccomp", "SECCOMP_SET_MODE_FILTER");
        }
    }

    /// <summary>
    /// Whether the kernel accepts these SECCOMP_FILTER_FLAG_* bits together, without installing anything:
    /// the flags are checked before the (null) program is read, so a known set fails with EFAULT and an
    /// unknown one (or a refused combination) with EINVAL. Other errors (say, a seccomp filter on
    /// this process that denies seccomp) count as "supported" so that the load reports the real error.
    /// </summary>
    public static bool SeccompFlagsSupported(uint flags)
    {
        var result = syscall(SyscallNumbers.Seccomp, SECCOMP_SET_MODE_FILTER, flags, 0, 0, 0);
        return result >= 0 || Errors.LastErrno != Errors.EINVAL;
    }

    /// <summary>Whether the kernel knows a SECCOMP_RET_* action (SECCOMP_GET_ACTION_AVAIL).</summary>
    public static bool SeccompActionAvailable(uint action) =>
        syscall(SyscallNumbers.Seccomp, SECCOMP_GET_ACTION_AVAIL, 0, (long)&action, 0, 0) == 0;
}
