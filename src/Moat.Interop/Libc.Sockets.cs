using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Socket pairs, unix sockets with descriptor passing, readiness polling.</summary>
public static unsafe partial class Libc
{
    public const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0x80000;
    public const short POLLIN = 1, POLLHUP = 0x10, POLLERR = 8;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* sv);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events, Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, ulong nfds, int timeout);

    public static (FileDescriptor, FileDescriptor) SocketPair()
    {
        var sv = stackalloc int[2];
        Errors.Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        return (new FileDescriptor(sv[0]), new FileDescriptor(sv[1]));
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

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int connect(int fd, byte* address, uint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint sendmsg(int fd, MsgHdr* message, int flags);

    /// <summary>socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC) connected to the socket at <paramref name="path"/>.</summary>
    public static FileDescriptor ConnectUnixStream(string path)
    {
        var encoded = System.Text.Encoding.UTF8.GetBytes(path);
        if (encoded.Length == 0 || encoded.Length >= UnixPathMax)
            throw new SyscallException("connect", 36 /* ENAMETOOLONG */, path);
        var fd = new FileDescriptor(Errors.Check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket", "AF_UNIX"));
        // struct sockaddr_un: sa_family_t (2 bytes) then the path, NUL-terminated.
        var address = stackalloc byte[2 + UnixPathMax];
        new Span<byte>(address, 2 + UnixPathMax).Clear();
        *(ushort*)address = AF_UNIX;
        encoded.CopyTo(new Span<byte>(address + 2, UnixPathMax));
        var length = (uint)(2 + encoded.Length + 1);
        int result;
        do
            result = connect(fd.Fd, address, length);
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
                var n = sendmsg(socketFd, &message, MSG_NOSIGNAL);
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

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recvmsg(int fd, MsgHdr* message, int flags);

    /// <summary>Receives one byte carrying one descriptor (SCM_RIGHTS); the descriptor comes back close-on-exec.</summary>
    public static FileDescriptor ReceiveDescriptor(int socketFd, string what)
    {
        byte data;
        var iov = new IoVec { Base = &data, Length = 1 };
        var control = new CmsgOneFd();
        var message = new MsgHdr { Iov = &iov, IovLen = 1, Control = &control, ControlLen = sizeof(CmsgOneFd) };
        const int MSG_CMSG_CLOEXEC = 0x40000000;
        nint n;
        do
            n = recvmsg(socketFd, &message, MSG_CMSG_CLOEXEC);
        while (n < 0 && Errors.LastErrno == Errors.EINTR);
        Errors.Check((long)n, "recvmsg", what);
        if (n == 0 || control.Level != SOL_SOCKET || control.Type != SCM_RIGHTS)
            throw new SyscallException("recvmsg", Errors.EIO, $"{what}: no descriptor came");
        return new FileDescriptor(control.Fd);
    }
}
