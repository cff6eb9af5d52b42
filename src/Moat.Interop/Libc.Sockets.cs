using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Socket pairs and readiness polling.</summary>
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
}
