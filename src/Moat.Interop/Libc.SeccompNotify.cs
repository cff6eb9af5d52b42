using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// Seccomp user notification from the supervisor's side (seccomp_unotify(2)): receive a trapped call,
/// answer it. Used by `moat seccomp generate` (record and let every call continue) and by the sandbox tier.
/// </summary>
public static unsafe partial class Libc
{
    /// <summary>struct seccomp_data.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SeccompData
    {
        public int Nr;
        public uint Arch;
        public ulong InstructionPointer;
        public fixed ulong Args[6];
    }

    /// <summary>struct seccomp_notif (80 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SeccompNotification
    {
        public ulong Id;
        /// <summary>The calling thread, as the supervisor's pid namespace sees it.</summary>
        public uint Pid;
        public uint Flags;
        public SeccompData Data;
    }

    /// <summary>struct seccomp_notif_resp (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SeccompNotificationResponse
    {
        public ulong Id;
        public long Val;
        public int Error;
        public uint Flags;
    }

    // _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, struct seccomp_notif_resp), _IOW('!', 2, __u64)
    public const ulong SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100, SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101,
        SECCOMP_IOCTL_NOTIF_ID_VALID = 0x40082102;
    /// <summary>Let the call run as if no filter had trapped it.</summary>
    public const uint SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;
    /// <summary>AUDIT_ARCH_* values of seccomp_data.arch (also libseccomp's SCMP_ARCH_* tokens).</summary>
    public const uint AUDIT_ARCH_X86_64 = 0xC000003E, AUDIT_ARCH_I386 = 0x40000003, AUDIT_ARCH_AARCH64 = 0xC00000B7;

    /// <summary>
    /// Waits for the next trapped call. Returns false when the call vanished before it could be read
    /// (ENOENT: the caller was killed), which is not an error.
    /// </summary>
    public static bool SeccompReceive(int notifyFd, out SeccompNotification notification)
    {
        // The kernel refuses a buffer that is not zeroed (EINVAL).
        notification = default;
        while (true)
        {
            fixed (SeccompNotification* p = &notification)
            {
                if (ioctl(notifyFd, SECCOMP_IOCTL_NOTIF_RECV, (nint)p) == 0)
                    return true;
            }
            var errno = Errors.LastErrno;
            if (errno == Errors.EINTR)
            {
                notification = default;
                continue;
            }
            if (errno == Errors.ENOENT)
                return false;
            throw new SyscallException("ioctl SECCOMP_IOCTL_NOTIF_RECV", errno);
        }
    }

    /// <summary>
    /// Answers a trapped call: with <see cref="SECCOMP_USER_NOTIF_FLAG_CONTINUE"/> it runs; otherwise it
    /// returns <paramref name="value"/> or fails with -<paramref name="error"/>. A caller that died meanwhile
    /// (ENOENT) is not an error.
    /// </summary>
    public static void SeccompRespond(int notifyFd, ulong id, long value, int error, uint flags)
    {
        var response = new SeccompNotificationResponse { Id = id, Val = value, Error = error, Flags = flags };
        while (ioctl(notifyFd, SECCOMP_IOCTL_NOTIF_SEND, (nint)(&response)) != 0)
        {
            var errno = Errors.LastErrno;
            if (errno == Errors.EINTR)
                continue;
            if (errno == Errors.ENOENT)
                return;
            throw new SyscallException("ioctl SECCOMP_IOCTL_NOTIF_SEND", errno);
        }
    }
}

/// <summary>Seccomp user notification, the supervisor's further requests: descriptors into the caller, id checks, the synchronous wake-up.</summary>
public static unsafe partial class Libc
{
    /// <summary>struct seccomp_notif_addfd (24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SeccompNotificationAddFd
    {
        public ulong Id;
        public uint Flags;
        public uint SourceFd;
        public uint NewFd;
        public uint NewFdFlags;
    }

    // _IOW('!', 3, struct seccomp_notif_addfd), _IOW('!', 4, __u64)
    public const ulong SECCOMP_IOCTL_NOTIF_ADDFD = 0x40182103, SECCOMP_IOCTL_NOTIF_SET_FLAGS = 0x40082104;
    /// <summary>ADDFD: install at NewFd (SETFD); install and answer the call with the new number in one step (SEND, Linux 5.14).</summary>
    public const uint SECCOMP_ADDFD_FLAG_SETFD = 1, SECCOMP_ADDFD_FLAG_SEND = 2;
    /// <summary>SET_FLAGS: the supervisor runs on the CPU the caller waits on (Linux 6.6): a faster round trip.</summary>
    public const ulong SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1;

    /// <summary>
    /// Puts <paramref name="sourceFd"/> into the trapped caller's table and, with <see cref="SECCOMP_ADDFD_FLAG_SEND"/>,
    /// answers the call with its number there. Returns that number, or -errno (ENOENT: the caller is gone;
    /// EMFILE: its table is full), which the supervisor hands on as the call's error.
    /// </summary>
    public static int SeccompAddFd(int notifyFd, ulong id, int sourceFd, uint flags, uint newFdFlags)
    {
        var request = new SeccompNotificationAddFd { Id = id, Flags = flags, SourceFd = (uint)sourceFd, NewFdFlags = newFdFlags };
        while (true)
        {
            var result = ioctl(notifyFd, SECCOMP_IOCTL_NOTIF_ADDFD, (nint)(&request));
            if (result >= 0)
                return result;
            var errno = Errors.LastErrno;
            if (errno != Errors.EINTR)
                return -errno;
        }
    }

    /// <summary>Whether the notification is still pending (its caller alive and waiting): checked after reading its memory.</summary>
    public static bool SeccompIdValid(int notifyFd, ulong id) =>
        ioctl(notifyFd, SECCOMP_IOCTL_NOTIF_ID_VALID, (nint)(&id)) == 0;

    /// <summary>Asks for the synchronous wake-up; false when the kernel is older than 6.6.</summary>
    public static bool SeccompSetSyncWakeUp(int notifyFd)
    {
        // The flags travel by value, not through a pointer (kernel: seccomp_notify_set_flags).
        return ioctl(notifyFd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (nint)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
    }
}
