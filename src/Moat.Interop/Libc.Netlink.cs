namespace Moat.Interop;

/// <summary>
/// rtnetlink (linux/netlink.h, linux/rtnetlink.h): one request on a NETLINK_ROUTE socket and the
/// kernel's acknowledgement. The caller builds the message (header, family struct, attributes).
/// </summary>
public static unsafe partial class Libc
{
    const int AF_NETLINK = 16, NETLINK_ROUTE = 0, SOCK_RAW = 3;
    const ushort NLMSG_ERROR = 2;

    /// <summary>
    /// Sends one rtnetlink request (its header must ask for NLM_F_ACK) from the calling thread's network
    /// namespace and waits for the acknowledgement; a negative error in it becomes a SyscallException
    /// naming <paramref name="what"/>.
    /// </summary>
    public static void RouteNetlinkRequest(ReadOnlySpan<byte> message, string what)
    {
        var fd = Errors.Check(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), "socket", "rtnetlink");
        try
        {
            fixed (byte* p = message)
                if (send(fd, p, message.Length, 0) != message.Length)
                    throw new SyscallException("send", Errors.LastErrno, what);
            var buffer = stackalloc byte[8192];
            while (true)
            {
                var n = recv(fd, buffer, 8192, 0);
                if (n < 0)
                {
                    if (Errors.LastErrno == Errors.EINTR)
                        continue;
                    throw new SyscallException("recv", Errors.LastErrno, what);
                }
                // struct nlmsghdr: u32 length, u16 type, u16 flags, u32 seq, u32 pid; an error message then carries an int.
                for (var offset = 0; offset + 16 <= n;)
                {
                    var length = *(uint*)(buffer + offset);
                    var type = *(ushort*)(buffer + offset + 4);
                    if (type == NLMSG_ERROR && offset + 20 <= n)
                    {
                        var error = *(int*)(buffer + offset + 16);
                        if (error < 0)
                            throw new SyscallException(what, -error);
                        return;
                    }
                    if (length < 16)
                        break;
                    offset += (int)((length + 3) & ~3u);
                }
            }
        }
        finally
        {
            close(fd);
        }
    }
}
