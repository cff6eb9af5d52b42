using System.Buffers.Binary;
using Moat.Interop;

namespace Moat.Runtime.Protocol;

/// <summary>
/// The stage protocol's socket between the runtime and the process it creates (native/spawn.c,
/// then the init stage): frames of one <see cref="StageFrame"/> tag byte, a 32-bit little-endian
/// length and the payload, and descriptors that travel with SCM_RIGHTS on one byte after some of
/// them. Each side has its own typed methods (SyncChannel.Runtime.cs, SyncChannel.Init.cs); the
/// order they are called in is written down in Protocol/README.md.
/// </summary>
public sealed partial class SyncChannel : IDisposable
{
    /// <summary>No frame is that large; a length beyond it means the stream is out of step.</summary>
    const int MaxPayload = 64 * 1024 * 1024;

    public SyncChannel(FileDescriptor socket) => Socket = socket;

    public FileDescriptor Socket { get; }

    internal void Send(StageFrame frame, ReadOnlySpan<byte> payload = default)
    {
        Span<byte> header = stackalloc byte[5];
        header[0] = (byte)frame;
        BinaryPrimitives.WriteUInt32LittleEndian(header[1..], (uint)payload.Length);
        Libc.WriteAll(Socket.Fd, header, "sync socket");
        if (!payload.IsEmpty)
            Libc.WriteAll(Socket.Fd, payload, "sync socket");
    }

    /// <summary>Reads one frame; null when the other side closed without a word (it died).</summary>
    internal (StageFrame Frame, byte[] Payload)? Receive()
    {
        Span<byte> header = stackalloc byte[5];
        if (!ReadExactly(header, allowEof: true))
            return null;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header[1..]);
        if (length > MaxPayload)
            throw new InvalidDataException($"sync socket: frame of {length} bytes is too large");
        var payload = length == 0 ? [] : new byte[length];
        ReadExactly(payload, allowEof: false);
        return ((StageFrame)header[0], payload);
    }

    /// <summary>Sends a descriptor (SCM_RIGHTS) on one byte, the frame's tag, after that frame's header.</summary>
    void SendDescriptor(StageFrame frame, FileDescriptor descriptor, string what)
    {
        Span<byte> carrier = stackalloc byte[] { (byte)frame };
        Libc.SendWithDescriptor(Socket.Fd, carrier, descriptor.Fd, what);
    }

    FileDescriptor ReceiveDescriptor(string what) => Libc.ReceiveDescriptor(Socket.Fd, what);

    bool ReadExactly(Span<byte> buffer, bool allowEof)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = Libc.Read(Socket.Fd, buffer[done..], "sync socket");
            if (n == 0)
            {
                if (allowEof && done == 0)
                    return false;
                throw new InvalidDataException("sync socket: the other side closed in the middle of a message");
            }
            done += n;
        }
        return true;
    }

    /// <summary>How a tag reads in an error: the character, as the frames are documented.</summary>
    static string Name(StageFrame frame) => $"'{(char)frame}'";

    public void Dispose() => Socket.Dispose();
}
