using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>AF_UNIX SOCK_SEQPACKET clients (a container monitor's attach socket): one send is one message.</summary>
public static unsafe partial class Libc
{
    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static partial nint SeqPacketSend(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint SeqPacketReceive(int fd, byte* buffer, nint length, int flags);

    /// <summary>socket(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC) connected to <paramref name="path"/>.</summary>
    public static FileDescriptor ConnectUnixSeqPacket(string path)
    {
        var encoded = System.Text.Encoding.UTF8.GetBytes(path);
        if (encoded.Length == 0 || encoded.Length >= UnixPathMax)
            throw new SyscallException("connect", 36 /* ENAMETOOLONG */, path);
        var fd = new FileDescriptor(Errors.Check(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), "socket", "AF_UNIX"));
        var address = stackalloc byte[2 + UnixPathMax];
        new Span<byte>(address, 2 + UnixPathMax).Clear();
        *(ushort*)address = AF_UNIX;
        encoded.CopyTo(new Span<byte>(address + 2, UnixPathMax));
        int result;
        do
            result = connect(fd.Fd, address, (uint)(2 + encoded.Length + 1));
        while (result < 0 && Errors.LastErrno == Errors.EINTR);
        if (result < 0)
        {
            var errno = Errors.LastErrno;
            fd.Dispose();
            throw new SyscallException("connect", errno, path);
        }
        return fd;
    }

    /// <summary>Sends one message (no SIGPIPE; EINTR retried).</summary>
    public static void SendMessage(int fd, ReadOnlySpan<byte> message, string what)
    {
        fixed (byte* p = message)
        {
            nint n;
            do
                n = SeqPacketSend(fd, p, message.Length, MSG_NOSIGNAL);
            while (n < 0 && Errors.LastErrno == Errors.EINTR);
            if (n < 0)
                throw new SyscallException("send", Errors.LastErrno, what);
        }
    }

    /// <summary>Receives one message into <paramref name="buffer"/>; 0 is the end of the connection.</summary>
    public static int ReceiveMessage(int fd, Span<byte> buffer, string what)
    {
        fixed (byte* p = buffer)
        {
            nint n;
            do
                n = SeqPacketReceive(fd, p, buffer.Length, 0);
            while (n < 0 && Errors.LastErrno == Errors.EINTR);
            if (n < 0)
            {
                if (Errors.LastErrno == 104 /* ECONNRESET */)
                    return 0;
                throw new SyscallException("recv", Errors.LastErrno, what);
            }
            return (int)n;
        }
    }
}
