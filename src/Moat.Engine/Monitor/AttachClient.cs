using System.Buffers.Binary;
using System.Text;
using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Engine.Monitor;

/// <summary>A connection to a monitor's attach socket (SOCK_SEQPACKET, one message per frame: <see cref="AttachFrames"/>).</summary>
public sealed class AttachClient : IDisposable
{
    readonly FileDescriptor socket;
    readonly byte[] receiveBuffer = new byte[AttachFrames.MaxPayload + 1];
    readonly Lock sendGate = new();

    AttachClient(FileDescriptor socket) => this.socket = socket;

    public static AttachClient Connect(string containerDirectory)
    {
        var path = Path.Combine(containerDirectory, ContainerFiles.AttachSocket);
        // sun_path holds 107 bytes: a long root is reached through a descriptor of the directory, as the monitor binds it.
        using var directory = System.Text.Encoding.UTF8.GetByteCount(path) >= Libc.UnixPathMax ? Libc.Open(containerDirectory, Libc.O_PATH | Libc.O_DIRECTORY) : null;
        try
        {
            return new AttachClient(Libc.ConnectUnixSeqPacket(directory is null ? path : $"/proc/self/fd/{directory.Fd}/{ContainerFiles.AttachSocket}"));
        }
        catch (SyscallException e) when (e.Errno is Errors.ENOENT or 111 /* ECONNREFUSED */)
        {
            throw new EngineException("the container's monitor is not listening (it has exited)", e);
        }
    }

    public int Descriptor => socket.Fd;

    public void Send(byte frame, ReadOnlySpan<byte> payload = default)
    {
        var message = new byte[1 + payload.Length];
        message[0] = frame;
        payload.CopyTo(message.AsSpan(1));
        lock (sendGate)
            Libc.SendMessage(socket.Fd, message, "the monitor's attach socket");
    }

    public void SendInput(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var chunk = data[..Math.Min(data.Length, AttachFrames.MaxPayload)];
            Send(AttachFrames.Stdin, chunk);
            data = data[chunk.Length..];
        }
    }

    public void Resize(ushort rows, ushort columns)
    {
        Span<byte> payload = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, rows);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[2..], columns);
        Send(AttachFrames.Resize, payload);
    }

    /// <summary>The next frame, or null when the monitor closed the connection.</summary>
    public (byte Frame, ReadOnlyMemory<byte> Payload)? Receive()
    {
        var n = Libc.ReceiveMessage(socket.Fd, receiveBuffer, "the monitor's attach socket");
        if (n == 0)
            return null;
        return (receiveBuffer[0], receiveBuffer.AsMemory(1, n - 1).ToArray());
    }

    /// <summary>
    /// Asks the monitor to start the container and waits for its answer; output frames that come first are
    /// handed to <paramref name="output"/>. Returns the init's pid.
    /// </summary>
    public int Start(Action<byte, ReadOnlyMemory<byte>>? output = null)
    {
        Send(AttachFrames.Start);
        while (true)
        {
            var frame = Receive() ?? throw new EngineException("the container's monitor closed the connection before it started the container");
            switch (frame.Frame)
            {
                case AttachFrames.Started:
                    return frame.Payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(frame.Payload.Span) : 0;
                case AttachFrames.Error:
                    throw new StartFailedException(Encoding.UTF8.GetString(frame.Payload.Span));
                default:
                    output?.Invoke(frame.Frame, frame.Payload);
                    break;
            }
        }
    }

    public void Dispose() => socket.Dispose();
}

/// <summary>The runtime's start failed; docker's exit status for it: 127 for a command not found, 126 for one that cannot be run, else 125.</summary>
public sealed class StartFailedException(string message) : EngineException(message)
{
    public int ExitStatus =>
        Message.Contains("no such file", StringComparison.OrdinalIgnoreCase) || Message.Contains("not found", StringComparison.OrdinalIgnoreCase) ? 127
        : Message.Contains("permission denied", StringComparison.OrdinalIgnoreCase) || Message.Contains("is a directory", StringComparison.OrdinalIgnoreCase) ? 126
        : 125;
}
