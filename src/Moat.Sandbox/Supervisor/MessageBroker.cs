using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using Moat.Interop;
using static Moat.Interop.Libc;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// The sends that may name a destination: sendto with an address, sendmsg and sendmmsg. A message
/// header lives in the caller's memory, where another thread can rewrite the destination after any
/// check, and the descriptor number can be made to name another socket (dup2) before the kernel looks
/// at it; so the supervisor never lets these calls continue. It copies the whole message out once
/// (header, destination, data, control messages), checks the destination, takes the caller's socket
/// (pidfd_getfd: the same open socket), turns descriptors passed with SCM_RIGHTS into its own
/// duplicates of the caller's, and sends the copy itself, with the caller's ids and no capability.
/// </summary>
public sealed unsafe partial class Broker
{
    const int MsgHdrSize = 56, MmsgHdrSize = 64, MaxIov = 1024, MaxMessages = 1024;
    /// <summary>At most this much data per message: a stream send is cut short (legal), a datagram this big is EMSGSIZE.</summary>
    const int MaxData = 1 << 20;
    const int MaxControl = 64 << 10;
    const int SOCK_STREAM_TYPE = 1, SIGPIPE = 13, EPIPE = 32, EMSGSIZE = 90, EFAULT = 14, EBADF = 9, ENOBUFS = 105;
    const int SOL_SOCKET_LEVEL = 1, SCM_RIGHTS_TYPE = 1, SCM_CREDENTIALS = 2, IPPROTO_IP = 0, IPPROTO_IPV6 = 41, SOL_UDP = 17;

    /// <summary>
    /// Control messages the supervisor passes on: they choose how the caller's own socket sends (source
    /// address, TTL/hop limit, traffic class, segmentation), none needs a capability. Others (SO_MARK,
    /// IP options...) are checked by the kernel against the sender's capabilities: refused, logged.
    /// </summary>
    static bool PassedUnchanged(int level, int type) => (level, type) switch
    {
        (IPPROTO_IP, 1 or 2 or 8) => true,              // IP_TOS, IP_TTL, IP_PKTINFO
        (IPPROTO_IPV6, 50 or 52 or 62 or 67) => true,   // IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_DONTFRAG, IPV6_TCLASS
        (SOL_UDP, 103) => true,                          // UDP_SEGMENT
        _ => false,
    };

    /// <summary>One message copied out of the caller: nothing in it refers to the caller's memory or descriptor table any more.</summary>
    sealed class Outgoing : IDisposable
    {
        public byte[]? Name;
        public int HeldFd = -1;
        public byte[] Data = [];
        public byte[]? Control;
        public readonly List<int> Passed = [];
        /// <summary>Explicit SCM_CREDENTIALS, checked and translated: sent by the supervisor as itself (the kernel would refuse them from the caller's ids on the supervisor's pid).</summary>
        public bool Credentials;

        public void Dispose()
        {
            if (HeldFd >= 0)
                close(HeldFd);
            HeldFd = -1;
            foreach (var fd in Passed)
                close(fd);
            Passed.Clear();
        }
    }

    /// <summary>Why a later message of a sendmmsg was not copied: it is left to the next call, which meets it first.</summary>
    static readonly Outgoing LeaveForNextCall = new();

    void SendTo(Call c)
    {
        var a = c.Args;
        c.Arguments.Add(("fd", a[0].ToString(CultureInfo.InvariantCulture)));
        if (c.Caller is not { } caller)
        {
            c.Fail(Errors.ESRCH);
            return;
        }
        if (CheckAddress(c, a[4], a[5], "sendto") is not { } address)
            return;
        var m = new Outgoing { Name = address.Bytes, HeldFd = address.HeldFd };
        var socket = TakeSocket(caller, (int)a[0]);
        if (socket < 0)
        {
            m.Dispose();
            c.Fail(-socket);
            return;
        }
        var length = a[2];
        var stream = SocketOption(socket, SO_TYPE) == SOCK_STREAM_TYPE;
        if (length > MaxData && !stream)
        {
            Finish(m, socket);
            c.Fail(EMSGSIZE);
            return;
        }
        m.Data = new byte[Math.Min(length, MaxData)];
        fixed (byte* d = m.Data)
        {
            if (m.Data.Length > 0 && ReadProcessMemory(c.Tid, a[1], d, m.Data.Length) != m.Data.Length)
            {
                Finish(m, socket);
                c.Fail(EFAULT);
                return;
            }
        }
        SendAndAnswer(c, caller, socket, m, (int)a[3], r => r);
    }

    void SendMsg(Call c)
    {
        var a = c.Args;
        c.Arguments.Add(("fd", a[0].ToString(CultureInfo.InvariantCulture)));
        if (c.Caller is not { } caller)
        {
            c.Fail(Errors.ESRCH);
            return;
        }
        var socket = TakeSocket(caller, (int)a[0]);
        if (socket < 0)
        {
            c.Fail(-socket);
            return;
        }
        if (CopyMessage(c, caller, socket, a[1], first: true) is not { } m)
        {
            close(socket);
            return;
        }
        SendAndAnswer(c, caller, socket, m, (int)a[2], r => r);
    }

    void SendMmsg(Call c)
    {
        var a = c.Args;
        c.Arguments.Add(("fd", a[0].ToString(CultureInfo.InvariantCulture)));
        if (c.Caller is not { } caller)
        {
            c.Fail(Errors.ESRCH);
            return;
        }
        var vector = a[1];
        var count = (int)Math.Min((uint)a[2], MaxMessages);
        var flags = (int)a[3];
        if (count == 0)
        {
            c.Reply(0);
            return;
        }
        var socket = TakeSocket(caller, (int)a[0]);
        if (socket < 0)
        {
            c.Fail(-socket);
            return;
        }
        var sent = 0;
        for (var i = 0; i < count; i++)
        {
            var header = vector + (ulong)(i * MmsgHdrSize);
            var m = CopyMessage(c, caller, socket, header, first: i == 0);
            if (m is null)
            {
                close(socket); // answered: the first message was refused or faulted
                return;
            }
            if (ReferenceEquals(m, LeaveForNextCall))
                break;
            var index = i;
            if (i == 0)
            {
                // The first message may wait (a blocking socket): SendAndAnswer hands it to a worker then.
                var more = count > 1;
                var r0 = TrySend(caller, socket, m, flags, out var mayWait);
                if (r0 == -Errors.EAGAIN && mayWait)
                {
                    SendAndAnswer(c, caller, socket, m, flags, r => r < 0 ? r : RecordLength(c, header, r) ? 1 : -EFAULT);
                    return;
                }
                m.Dispose();
                if (r0 < 0)
                {
                    Finish(null, socket);
                    Answer(c, caller, r0, flags);
                    return;
                }
                if (!RecordLength(c, header, r0))
                {
                    Finish(null, socket);
                    c.Fail(EFAULT);
                    return;
                }
                sent = 1;
                if (!more)
                    break;
                continue;
            }
            // Later messages never wait and never fail the call: what was sent is the answer.
            var r = TrySend(caller, socket, m, flags | MSG_DONTWAIT, out _);
            m.Dispose();
            if (r < 0 || !RecordLength(c, header, r))
                break;
            sent = index + 1;
        }
        close(socket);
        c.Reply(sent);
    }

    /// <summary>msg_len of one mmsghdr, written back into the caller's vector.</summary>
    bool RecordLength(Call c, ulong header, long sent)
    {
        var length = (uint)sent;
        return WriteProcessMemory(c.Tid, header + MsgHdrSize, (byte*)&length, 4) == 4;
    }

    /// <summary>
    /// Copies the msghdr at <paramref name="address"/> and everything it points to. Null after answering
    /// the call (a refusal, a fault: the first message only); <see cref="LeaveForNextCall"/> when a later
    /// message would need an answer of its own.
    /// </summary>
    Outgoing? CopyMessage(Call c, Caller caller, int socket, ulong address, bool first)
    {
        Outgoing? Stop(int errno, string? rule = null)
        {
            if (!first)
                return LeaveForNextCall;
            if (rule is null)
                c.Fail(errno);
            else
                c.Refuse(errno, rule);
            return null;
        }
        var header = stackalloc byte[MsgHdrSize];
        if (ReadProcessMemory(c.Tid, address, header, MsgHdrSize) != MsgHdrSize)
            return Stop(EFAULT);
        var h = *(MsgHdr*)header;
        var m = new Outgoing();
        try
        {
            // The destination.
            if (h.Name is not null && h.NameLen > 0)
            {
                if (!first && !QuietlyAllowed(c, (ulong)h.Name, h.NameLen))
                {
                    m.Dispose();
                    return LeaveForNextCall;
                }
                if (CheckAddress(c, (ulong)h.Name, h.NameLen, "sendmsg") is not { } checkedAddress)
                {
                    m.Dispose();
                    return null; // answered (a first message: QuietlyAllowed let every later one through)
                }
                m.Name = checkedAddress.Bytes;
                m.HeldFd = checkedAddress.HeldFd;
            }
            // The data, gathered into one buffer.
            if ((ulong)h.IovLen > MaxIov)
            {
                m.Dispose();
                return Stop(EMSGSIZE);
            }
            var iovecs = new IoVec[(int)h.IovLen];
            if (iovecs.Length > 0)
                fixed (IoVec* v = iovecs)
                    if (ReadProcessMemory(c.Tid, (ulong)h.Iov, (byte*)v, iovecs.Length * sizeof(IoVec)) != iovecs.Length * sizeof(IoVec))
                    {
                        m.Dispose();
                        return Stop(EFAULT);
                    }
            long total = 0;
            foreach (var v in iovecs)
            {
                if (v.Length < 0)
                {
                    m.Dispose();
                    return Stop(Errors.EINVAL);
                }
                total += v.Length;
            }
            if (total > MaxData && SocketOption(socket, SO_TYPE) != SOCK_STREAM_TYPE)
            {
                m.Dispose();
                return Stop(EMSGSIZE);
            }
            m.Data = new byte[Math.Min(total, MaxData)];
            var done = 0;
            fixed (byte* d = m.Data)
                foreach (var v in iovecs)
                {
                    var take = (int)Math.Min(v.Length, m.Data.Length - done);
                    if (take == 0)
                        continue;
                    if (ReadProcessMemory(c.Tid, (ulong)v.Base, d + done, take) != take)
                    {
                        m.Dispose();
                        return Stop(EFAULT);
                    }
                    done += take;
                }
            // Control messages.
            if (h.Control is not null && h.ControlLen > 0)
            {
                if (h.ControlLen > MaxControl)
                {
                    m.Dispose();
                    return Stop(ENOBUFS);
                }
                m.Control = new byte[h.ControlLen];
                fixed (byte* p = m.Control)
                    if (ReadProcessMemory(c.Tid, (ulong)h.Control, p, m.Control.Length) != m.Control.Length)
                    {
                        m.Dispose();
                        return Stop(EFAULT);
                    }
                if (TranslateControl(c, caller, m) is var (errno, rule))
                {
                    m.Dispose();
                    return Stop(errno, rule);
                }
            }
            return m;
        }
        catch
        {
            m.Dispose();
            throw;
        }
    }

    /// <summary>Whether a later message's destination passes without an answer of its own (an allowed IP address).</summary>
    bool QuietlyAllowed(Call c, ulong pointer, uint length)
    {
        if (length is < 16 or > 128)
            return false;
        var bytes = stackalloc byte[(int)length];
        if (ReadProcessMemory(c.Tid, pointer, bytes, (int)length) != length)
            return false;
        var family = *(ushort*)bytes;
        if (family == AF_INET6 && length < 24)
            return false;
        if (family is not (AF_INET or AF_INET6))
            return false;
        if (c.Unchecked)
            return true;
        var port = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(bytes + 2, 2));
        var ip = family == AF_INET ? new IPAddress(new ReadOnlySpan<byte>(bytes + 4, 4)) : new IPAddress(new ReadOnlySpan<byte>(bytes + 8, 16));
        return policy.CanConnect(ip, port);
    }

    /// <summary>
    /// Rewrites the copied control messages for the supervisor's send: SCM_RIGHTS descriptors become the
    /// supervisor's duplicates of the caller's; SCM_CREDENTIALS must be the caller's own (pid, and a real,
    /// effective or saved id) and are translated to the host's view; other kinds pass only when harmless.
    /// Null when all is well, else the errno and, for a refusal, its rule.
    /// </summary>
    (int Errno, string? Rule)? TranslateControl(Call c, Caller caller, Outgoing m)
    {
        var control = m.Control!;
        var offset = 0;
        while (offset + 16 <= control.Length)
        {
            var length = (long)BitConverter.ToUInt64(control, offset);
            var level = BitConverter.ToInt32(control, offset + 8);
            var type = BitConverter.ToInt32(control, offset + 12);
            if (length < 16 || offset + length > control.Length)
                return (Errors.EINVAL, null);
            var data = control.AsSpan(offset + 16, (int)length - 16);
            if (level == SOL_SOCKET_LEVEL && type == SCM_RIGHTS_TYPE)
            {
                using var pidfd = TryPidfdOpen(caller.Tgid);
                if (pidfd is null)
                    return (Errors.ESRCH, null);
                for (var i = 0; i + 4 <= data.Length; i += 4)
                {
                    var fd = PidfdGetFd(pidfd.Fd, BitConverter.ToInt32(data[i..]));
                    if (fd < 0)
                        return (EBADF, null);
                    m.Passed.Add(fd);
                    BitConverter.TryWriteBytes(data[i..], fd);
                }
            }
            else if (level == SOL_SOCKET_LEVEL && type == SCM_CREDENTIALS && data.Length >= 12)
            {
                var pid = BitConverter.ToInt32(data);
                var uid = ToHost(uidMap, BitConverter.ToUInt32(data[4..]));
                var gid = ToHost(gidMap, BitConverter.ToUInt32(data[8..]));
                if (pid != caller.NsTgid || uid is not { } hostUid || gid is not { } hostGid
                    || (hostUid != caller.RUid && hostUid != caller.EUid) || (hostGid != caller.RGid && hostGid != caller.EGid))
                    return (Errors.EPERM, "SCM_CREDENTIALS: only the sender's own pid and ids");
                BitConverter.TryWriteBytes(data, caller.Tgid);
                BitConverter.TryWriteBytes(data[4..], hostUid);
                BitConverter.TryWriteBytes(data[8..], hostGid);
                m.Credentials = true;
            }
            else if (!PassedUnchanged(level, type))
            {
                c.Arguments.Add(("control", $"level {level} type {type}"));
                return (Errors.EPERM, $"control message level {level} type {type}: not passed by the supervisor (the kernel would check its capability against the supervisor's)");
            }
            offset += (int)((length + 7) & ~7L);
        }
        return null;
    }

    /// <summary>One attempt that never waits: -EAGAIN with <paramref name="mayWait"/> when the caller's socket and flags would have waited.</summary>
    static long TrySend(Caller caller, int socket, Outgoing m, int flags, out bool mayWait)
    {
        mayWait = (flags & MSG_DONTWAIT) == 0 && (fcntl(socket, F_GETFL, 0) & O_NONBLOCK) == 0;
        return Send(caller, socket, m, flags | MSG_DONTWAIT);
    }

    static long Send(Caller caller, int socket, Outgoing m, int flags)
    {
        fixed (byte* data = m.Data)
        fixed (byte* name = m.Name)
        fixed (byte* control = m.Control)
        {
            var iov = new IoVec { Base = data, Length = m.Data.Length };
            var message = new MsgHdr
            {
                Name = name, NameLen = (uint)(m.Name?.Length ?? 0), Iov = &iov, IovLen = 1,
                Control = control, ControlLen = m.Control?.Length ?? 0,
            };
            // MSG_NOSIGNAL: a broken pipe must not signal the supervisor (Answer signals the caller).
            if (m.Credentials)
                return BrokerSendmsg(socket, &message, flags | MSG_NOSIGNAL);
            try
            {
                ThreadIdentity.ActAsSender(caller);
                return BrokerSendmsg(socket, &message, flags | MSG_NOSIGNAL);
            }
            finally
            {
                ThreadIdentity.BeFullyRoot();
            }
        }
    }

    /// <summary>Sends <paramref name="m"/> and answers with <paramref name="result"/> of what was sent; a send that would wait goes to a worker thread.</summary>
    void SendAndAnswer(Call c, Caller caller, int socket, Outgoing m, int flags, Func<long, long> result)
    {
        var r = TrySend(caller, socket, m, flags, out var mayWait);
        if (r != -Errors.EAGAIN || !mayWait)
        {
            Finish(m, socket);
            Answer(c, caller, r < 0 ? r : result(r), flags);
            return;
        }
        // A blocking socket that is full: wait for room on a worker thread, as the caller would have.
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            try
            {
                var sent = Send(caller, socket, m, flags);
                Answer(c, caller, sent < 0 ? sent : result(sent), flags);
            }
            catch (SyscallException e)
            {
                c.Fail(Errors.EIO, $"supervisor error: {e.Message}");
            }
            finally
            {
                Finish(m, socket);
            }
        }, null);
    }

    static void Finish(Outgoing? m, int socket)
    {
        m?.Dispose();
        close(socket);
    }

    /// <summary>The call's answer; EPIPE also signals the caller's thread, as the kernel would have, unless it asked for MSG_NOSIGNAL.</summary>
    static void Answer(Call c, Caller caller, long result, int flags)
    {
        if (result == -EPIPE && (flags & MSG_NOSIGNAL) == 0)
            SignalThread(caller.Tgid, caller.Tid, SIGPIPE);
        c.Result(result);
    }
}
