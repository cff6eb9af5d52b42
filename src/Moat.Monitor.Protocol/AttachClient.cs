using System.Buffers.Binary;
using Moat.Interop;

namespace Moat.Monitor.Protocol;

/// <summary>
/// A client of a monitor's attach socket (<see cref="AttachFrames"/>), for the engine's start/attach and
/// for tests. Blocking, one message per call. The socket is reached through /proc/self/fd when its full
/// path does not fit a unix socket address (the monitor binds it the same way).
/// </summary>
public sealed unsafe class AttachClient : IDisposable
{
    readonly FileDescriptor socket;
    readonly byte[] buffer = new byte[AttachFrames.MaxPayload + 1];

    AttachClient(FileDescriptor socket) => this.socket = socket;

    /// <summary>Connects to the attach socket in a container's directory.</summary>
    public static AttachClient Connect(string containerDirectory)
    {
        var full = Path.Combine(containerDirectory, ContainerFiles.AttachSocket);
        if (System.Text.Encoding.UTF8.GetByteCount(full) < Libc.UnixPathMax)
            return new AttachClient(Libc.ConnectUnix(full, Libc.SOCK_SEQPACKET));
        using var directory = Libc.Open(containerDirectory, Libc.O_PATH | Libc.O_DIRECTORY);
        return new AttachClient(Libc.ConnectUnix($"/proc/self/fd/{directory.Fd}/{ContainerFiles.AttachSocket}", Libc.SOCK_SEQPACKET));
    }

    /// <summary>The descriptor, for a caller that polls it alongside its own input.</summary>
    public int Descriptor => socket.Fd;

    public void Send(byte type, ReadOnlySpan<byte> payload = default)
    {
        var message = new byte[payload.Length + 1];
        message[0] = type;
        payload.CopyTo(message.AsSpan(1));
        fixed (byte* p = message)
        {
            nint n;
            do
                n = Libc.send(socket.Fd, p, message.Length, Libc.MSG_NOSIGNAL);
            while (n < 0 && Errors.LastErrno == Errors.EINTR);
            Errors.Check((long)n, "send", ContainerFiles.AttachSocket);
        }
    }

    public void SendResize(ushort rows, ushort columns)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, rows);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[2..], columns);
        Send(AttachFrames.Resize, payload);
    }

    /// <summary>
    /// The next message (type and payload), or null when the monitor closed the connection; waits at
    /// most <paramref name="timeout"/> (then TimeoutException).
    /// </summary>
    public (byte Type, byte[] Payload)? Receive(TimeSpan timeout)
    {
        var poll = new Libc.PollFd { Fd = socket.Fd, Events = Libc.POLLIN };
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
                throw new TimeoutException("the monitor sent nothing in time");
            var ready = Libc.poll(&poll, 1, (int)Math.Min(left, int.MaxValue));
            if (ready < 0 && Errors.LastErrno != Errors.EINTR)
                throw new SyscallException("poll", Errors.LastErrno);
            if (ready > 0)
                break;
        }
        nint n;
        fixed (byte* p = buffer)
        {
            do
                n = Libc.recv(socket.Fd, p, buffer.Length, 0);
            while (n < 0 && Errors.LastErrno == Errors.EINTR);
        }
        if (n < 0 && Errors.LastErrno == 104 /* ECONNRESET */)
            return null;
        Errors.Check((long)n, "recv", ContainerFiles.AttachSocket);
        if (n == 0)
            return null;
        return (buffer[0], buffer.AsSpan(1, (int)n - 1).ToArray());
    }

    /// <summary>The 4-byte little-endian number of an Exited or Started message.</summary>
    public static int Number(byte[] payload) => BinaryPrimitives.ReadInt32LittleEndian(payload);

    public void Dispose() => socket.Dispose();
}
