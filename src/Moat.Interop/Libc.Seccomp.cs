using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// seccomp(2) without libseccomp (the init stage loads a program compiled earlier), and the unix
/// socket calls that hand a seccomp listener descriptor to a supervisor (SCM_RIGHTS).
/// </summary>
public static unsafe partial class Libc
{
    public const uint SECCOMP_SET_MODE_FILTER = 1;
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

    /// <summary>__NR_seccomp for the architecture this process runs on.</summary>
    public static long SysSeccomp => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 317,
        Architecture.Arm64 => 277,
        Architecture.RiscV64 => 277,
        Architecture.LoongArch64 => 277,
        Architecture.X86 => 354,
        Architecture.Arm => 383,
        Architecture.S390x => 348,
        Architecture.Ppc64le => 358,
        var other => throw new PlatformNotSupportedException($"seccomp(2): no syscall number known for {other}"),
    };

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
            return (int)Errors.Check(syscall(SysSeccomp, SECCOMP_SET_MODE_FILTER, flags, (long)&fprog, 0, 0),
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
        var result = syscall(SysSeccomp, SECCOMP_SET_MODE_FILTER, flags, 0, 0, 0);
        return result >= 0 || Errors.LastErrno != Errors.EINVAL;
    }

    public const int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_NOSIGNAL = 0x4000;

    /// <summary>sizeof(sockaddr_un.sun_path): paths longer than 107 bytes do not fit.</summary>
    public const int UnixPathMax = 108;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nint Length;
    }

    /// <summary>struct msghdr (x86_64/aarch64 layout: 56 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLen;
        public IoVec* Iov;
        public nint IovLen;
        public void* Control;
        public nint ControlLen;
        public int Flags;
    }

    /// <summary>struct cmsghdr followed by one int: CMSG_SPACE(sizeof(int)) = 24 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgOneFd
    {
        public nint Len;
        public int Level;
        public int Type;
        public int Fd;
        int padding;
    }

    /// <summary>CMSG_LEN(sizeof(int)).</summary>
    public const int CmsgLenOneFd = 20;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int seccomp_socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static partial int seccomp_connect(int fd, byte* address, uint length);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint seccomp_sendmsg(int fd, MsgHdr* message, int flags);

    /// <summary>socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC) connected to the socket at <paramref name="path"/>.</summary>
    public static FileDescriptor ConnectUnixStream(string path)
    {
        var encoded = System.Text.Encoding.UTF8.GetBytes(path);
        if (encoded.Length == 0 || encoded.Length >= UnixPathMax)
            throw new SyscallException("connect", 36 /* ENAMETOOLONG */, path);
        var fd = new FileDescriptor(Errors.Check(seccomp_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket", "AF_UNIX"));
        // struct sockaddr_un: sa_family_t (2 bytes) then the path, NUL-terminated.
        var address = stackalloc byte[2 + UnixPathMax];
        new Span<byte>(address, 2 + UnixPathMax).Clear();
        *(ushort*)address = AF_UNIX;
        encoded.CopyTo(new Span<byte>(address + 2, UnixPathMax));
        var length = (uint)(2 + encoded.Length + 1);
        int result;
        do
            result = seccomp_connect(fd.Fd, address, length);
        while (result < 0 && Errors.LastErrno == Errors.EINTR);
        // An interrupted connect goes on in the background; the retry then reports EISCONN.
        if (result < 0 && Errors.LastErrno != 106 /* EISCONN */)
        {
            var errno = Errors.LastErrno;
            fd.Dispose();
            throw new SyscallException("connect", errno, path);
        }
        return fd;
    }

    /// <summary>
    /// Sends <paramref name="data"/> on a connected stream socket with <paramref name="passFd"/>
    /// attached to its first byte (SCM_RIGHTS); the rest follows if the first sendmsg was short.
    /// </summary>
    public static void SendWithDescriptor(int socketFd, ReadOnlySpan<byte> data, int passFd, string what)
    {
        if (data.IsEmpty)
            throw new ArgumentException("a descriptor must travel with at least one byte", nameof(data));
        fixed (byte* p = data)
        {
            var sent = 0;
            while (sent < data.Length)
            {
                var iov = new IoVec { Base = p + sent, Length = data.Length - sent };
                var control = new CmsgOneFd { Len = CmsgLenOneFd, Level = SOL_SOCKET, Type = SCM_RIGHTS, Fd = passFd };
                var message = new MsgHdr { Iov = &iov, IovLen = 1 };
                if (sent == 0)
                {
                    message.Control = &control;
                    message.ControlLen = sizeof(CmsgOneFd);
                }
                var n = seccomp_sendmsg(socketFd, &message, MSG_NOSIGNAL);
                if (n < 0)
                {
                    if (Errors.LastErrno == Errors.EINTR)
                        continue;
                    throw new SyscallException("sendmsg", Errors.LastErrno, what);
                }
                sent += (int)n;
            }
        }
    }
}
