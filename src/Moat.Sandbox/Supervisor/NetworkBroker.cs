using System.Buffers.Binary;
using System.Net;
using System.Text;
using Moat.Interop;
using static Moat.Interop.Libc;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// The brokered calls that reach the network by address: connect and bind (the sends: MessageBroker.cs).
/// The address is copied out once and checked; the supervisor then performs the call on the caller's
/// own socket (taken with pidfd_getfd: the same open socket, in the container's network namespace)
/// with the copy it checked, so a rewrite of the caller's buffer after the check changes nothing.
/// </summary>
public sealed unsafe partial class Broker
{
    const int AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;

    /// <summary>A checked address: the bytes to pass to the kernel (a unix path rewritten to /proc/self/fd/N), and what to close after.</summary>
    sealed record Address(byte[] Bytes, int HeldFd, string Text);

    /// <summary>Copies a sockaddr out and checks it for <paramref name="purpose"/>; null after answering.</summary>
    Address? CheckAddress(Call c, ulong pointer, ulong length, string purpose)
    {
        if (length is < 2 or > 128)
        {
            c.Fail(Errors.EINVAL);
            return null;
        }
        var bytes = new byte[length];
        fixed (byte* p = bytes)
        {
            if (ReadProcessMemory(c.Tid, pointer, p, (int)length) != (long)length)
            {
                c.Fail(14);
                return null;
            }
        }
        var family = BitConverter.ToUInt16(bytes, 0);
        switch (family)
        {
            case AF_INET or AF_INET6:
            {
                if ((family == AF_INET && length < 16) || (family == AF_INET6 && length < 24))
                {
                    c.Fail(Errors.EINVAL);
                    return null;
                }
                var port = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(2));
                var address = family == AF_INET ? new IPAddress(bytes.AsSpan(4, 4)) : new IPAddress(bytes.AsSpan(8, 16));
                var text = family == AF_INET ? $"{address}:{port}" : $"[{address}]:{port}";
                c.Arguments.Add(("address", text));
                if (purpose == "bind")
                {
                    if (!c.Unchecked && port != 0 && !policy.CanBind(port))
                    {
                        c.Refuse(Errors.EACCES, $"bind: port {port} is not in the policy's bind ports");
                        return null;
                    }
                    // The supervisor may bind anything; the caller only what its namespace's rights allow.
                    if (port is > 0 and < 1024 && c.Caller is { } caller && !caller.Has(Caller.CAP_NET_BIND_SERVICE))
                    {
                        c.Fail(Errors.EACCES);
                        return null;
                    }
                }
                else if (!c.Unchecked && !policy.CanConnect(address, port))
                {
                    c.Refuse(Errors.EACCES, $"connect: {text} is not in the policy's connect rules");
                    return null;
                }
                return new Address(bytes, -1, text);
            }
            case AF_UNIX:
            {
                if (length <= 2 || bytes[2] == 0)
                {
                    // Unnamed or abstract: no file (Landlock scopes abstract sockets to the sandbox).
                    c.Arguments.Add(("address", length <= 2 ? "unix:unnamed" : "unix:@" + Encoding.UTF8.GetString(bytes, 3, (int)length - 3).TrimEnd('\0')));
                    return new Address(bytes, -1, "unix");
                }
                var end = Array.IndexOf(bytes, (byte)0, 2);
                var path = Encoding.UTF8.GetString(bytes, 2, (end < 0 ? (int)length : end) - 2);
                c.Arguments.Add(("address", "unix:" + path));
                if (Absolute(c, AT_FDCWD, path) is not { } absolute)
                    return null;
                if (purpose == "bind")
                {
                    if (ResolveParent(c, absolute) is not var (parent, name, full))
                        return null;
                    if (!MayWrite(c, full))
                    {
                        close(parent);
                        return null;
                    }
                    var rewritten = $"/proc/self/fd/{parent}/{name}";
                    if (Encoding.UTF8.GetByteCount(rewritten) >= 108)
                    {
                        close(parent);
                        c.Fail(36);
                        return null;
                    }
                    return new Address(UnixAddress(rewritten), parent, full);
                }
                var socketFile = ResolveInRoot(absolute, 0);
                if (socketFile < 0)
                {
                    c.Fail(-socketFile);
                    return null;
                }
                if (InRoot(socketFile) is not { } canonical || !MayWrite(c, canonical))
                {
                    close(socketFile);
                    return null;
                }
                return new Address(UnixAddress($"/proc/self/fd/{socketFile}"), socketFile, canonical);
            }
            default:
                // Netlink and the like: no name, no address beyond the caller's own namespace.
                return new Address(bytes, -1, $"family {family}");
        }
    }

    static byte[] UnixAddress(string path)
    {
        var encoded = Encoding.UTF8.GetBytes(path);
        var bytes = new byte[2 + encoded.Length + 1];
        bytes[0] = AF_UNIX;
        encoded.CopyTo(bytes, 2);
        return bytes;
    }

    /// <summary>The caller's socket, as a descriptor of the supervisor's (the same open socket); -errno when it cannot be had.</summary>
    static int TakeSocket(Caller caller, int fd)
    {
        using var pidfd = TryPidfdOpen(caller.Tgid);
        if (pidfd is null)
            return -Errors.ESRCH;
        return PidfdGetFd(pidfd.Fd, fd);
    }

    void Connect(Call c)
    {
        var a = c.Args;
        c.Arguments.Add(("fd", a[0].ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (c.Caller is not { } caller)
        {
            c.Fail(Errors.ESRCH);
            return;
        }
        if (CheckAddress(c, a[1], a[2], "connect") is not { } address)
            return;
        var socket = TakeSocket(caller, (int)a[0]);
        if (socket < 0)
        {
            if (address.HeldFd >= 0)
                close(address.HeldFd);
            c.Fail(-socket);
            return;
        }
        // A connect may wait for the peer: on a worker thread, as the caller (a unix socket's peer
        // sees the credentials of whoever connects).
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            try
            {
                ThreadIdentity.ActFullyAs(caller);
                int r;
                fixed (byte* p = address.Bytes)
                    r = BrokerConnect(socket, p, (uint)address.Bytes.Length);
                ThreadIdentity.BeFullyRoot();
                c.Result(r);
            }
            catch (SyscallException)
            {
                c.Fail(Errors.EIO);
            }
            finally
            {
                close(socket);
                if (address.HeldFd >= 0)
                    close(address.HeldFd);
            }
        }, null);
    }

    void Bind(Call c)
    {
        var a = c.Args;
        if (c.Caller is not { } caller)
        {
            c.Fail(Errors.ESRCH);
            return;
        }
        if (CheckAddress(c, a[1], a[2], "bind") is not { } address)
            return;
        try
        {
            var socket = TakeSocket(caller, (int)a[0]);
            if (socket < 0)
            {
                c.Fail(-socket);
                return;
            }
            ThreadIdentity.ActAs(caller);
            int r;
            fixed (byte* p = address.Bytes)
                r = BrokerBind(socket, p, (uint)address.Bytes.Length);
            ThreadIdentity.BeRoot();
            close(socket);
            c.Result(r);
        }
        finally
        {
            if (address.HeldFd >= 0)
                close(address.HeldFd);
        }
    }
}
