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

    public const int SOCK_NONBLOCK = 0x800, MSG_DONTWAIT = 0x40, MSG_TRUNC = 0x20;
    public const short POLLOUT = 4, POLLNVAL = 0x20;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(int fd, byte* address, uint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int listen(int fd, int backlog);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int accept4(int fd, byte* address, uint* length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recv(int fd, byte* buffer, nint length, int flags);

    /// <summary>struct sockaddr_un for a path, and its length; the path must fit sun_path.</summary>
    static uint UnixAddress(string path, byte* address, string operation)
    {
        var encoded = System.Text.Encoding.UTF8.GetBytes(path);
        if (encoded.Length == 0 || encoded.Length >= UnixPathMax)
            throw new SyscallException(operation, 36 /* ENAMETOOLONG */, path);
        new Span<byte>(address, 2 + UnixPathMax).Clear();
        *(ushort*)address = AF_UNIX;
        encoded.CopyTo(new Span<byte>(address + 2, UnixPathMax));
        return (uint)(2 + encoded.Length + 1);
    }

    /// <summary>
    /// A listening AF_UNIX socket of <paramref name="type"/> (SOCK_STREAM, SOCK_SEQPACKET) bound to
    /// <paramref name="path"/>, close-on-exec and non-blocking (accept from a poll loop). A stale socket
    /// file at the path is replaced.
    /// </summary>
    public static FileDescriptor ListenUnix(string path, int type, int backlog = 16)
    {
        var address = stackalloc byte[2 + UnixPathMax];
        var length = UnixAddress(path, address, "bind");
        var fd = new FileDescriptor(Errors.Check(socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), "socket", "AF_UNIX"));
        try
        {
            if (bind(fd.Fd, address, length) < 0)
            {
                // A socket file left by an earlier listener (EADDRINUSE) is replaced; anything else is an error.
                if (Errors.LastErrno != 98 /* EADDRINUSE */)
                    throw new SyscallException("bind", Errors.LastErrno, path);
                File.Delete(path);
                Errors.Check(bind(fd.Fd, address, length), "bind", path);
            }
            Errors.Check(listen(fd.Fd, backlog), "listen", path);
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>accept4 on a non-blocking listener: the connection (close-on-exec, non-blocking), or null when none waits.</summary>
    public static FileDescriptor? TryAccept(FileDescriptor listener)
    {
        while (true)
        {
            var fd = accept4(listener.Fd, null, null, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0)
                return new FileDescriptor(fd);
            var errno = Errors.LastErrno;
            if (errno == Errors.EINTR)
                continue;
            // EAGAIN: nobody; ECONNABORTED and the like: that caller gave up before we looked.
            if (errno is Errors.EAGAIN or 103 /* ECONNABORTED */ or 71 /* EPROTO */)
                return null;
            throw new SyscallException("accept", errno);
        }
    }

    /// <summary>socket(AF_UNIX, <paramref name="type"/>|SOCK_CLOEXEC) connected to the socket at <paramref name="path"/>.</summary>
    public static FileDescriptor ConnectUnix(string path, int type)
    {
        var address = stackalloc byte[2 + UnixPathMax];
        var length = UnixAddress(path, address, "connect");
        var fd = new FileDescriptor(Errors.Check(socket(AF_UNIX, type | SOCK_CLOEXEC, 0), "socket", "AF_UNIX"));
        int result;
        do
            result = connect(fd.Fd, address, length);
        while (result < 0 && Errors.LastErrno == Errors.EINTR);
        if (result < 0 && Errors.LastErrno != 106 /* EISCONN */)
        {
            var errno = Errors.LastErrno;
            fd.Dispose();
            throw new SyscallException("connect", errno, path);
        }
        return fd;
    }
}

public static unsafe partial class Libc
{
    /// <summary>
    /// One recvmsg into <paramref name="buffer"/> that may carry one descriptor (SCM_RIGHTS, received
    /// close-on-exec): the bytes read (0 at end of stream) and the descriptor, or -1 when none came.
    /// </summary>
    public static int ReceiveWithDescriptor(int socketFd, Span<byte> buffer, out int descriptor)
    {
        descriptor = -1;
        fixed (byte* p = buffer)
        {
            var iov = new IoVec { Base = p, Length = buffer.Length };
            var control = new CmsgOneFd();
            var message = new MsgHdr { Iov = &iov, IovLen = 1, Control = &control, ControlLen = sizeof(CmsgOneFd) };
            const int MSG_CMSG_CLOEXEC = 0x40000000;
            nint n;
            do
                n = recvmsg(socketFd, &message, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
            while (n < 0 && Errors.LastErrno == Errors.EINTR);
            if (n < 0)
                return -Errors.LastErrno;
            if (message.ControlLen >= CmsgLenOneFd && control.Level == SOL_SOCKET && control.Type == SCM_RIGHTS)
                descriptor = control.Fd;
            return (int)n;
        }
    }
}

public static partial class Libc
{
    public const int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int fd, int how);
}
