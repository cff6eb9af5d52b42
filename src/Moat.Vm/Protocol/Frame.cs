using System.Buffers.Binary;
using Moat.Interop;

namespace Moat.Vm.Protocol;

/// <summary>
/// One message of the vm protocol. On the wire (little-endian): u32 payload length, u16 type,
/// u16 reserved (0), u32 stream or request id, then the payload. One frame is written with one
/// write call under the writer's lock, so frames from several threads never interleave.
/// </summary>
public readonly record struct Frame(FrameType Type, uint Stream, byte[] Payload)
{
    public const int HeaderSize = 12;

    /// <summary>Larger frames are a broken peer: the biggest legitimate one is a config (tens of KB).</summary>
    public const int MaxPayload = 4 << 20;

    /// <summary>The protocol version both sides send in Hello; a different one is refused.</summary>
    public const uint Version = 2;

    public byte[] Encode()
    {
        var bytes = new byte[HeaderSize + Payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)Payload.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), (ushort)Type);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), Stream);
        Payload.CopyTo(bytes, HeaderSize);
        return bytes;
    }

    /// <summary>Parses a header: the type, stream and payload length; throws on a length beyond <see cref="MaxPayload"/>.</summary>
    public static (FrameType Type, uint Stream, int Length) DecodeHeader(ReadOnlySpan<byte> header)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length > MaxPayload)
            throw new ProtocolException($"a frame of {length} bytes is larger than the protocol allows");
        if (BinaryPrimitives.ReadUInt16LittleEndian(header[6..]) != 0)
            throw new ProtocolException("a frame header has its reserved field set");
        return ((FrameType)BinaryPrimitives.ReadUInt16LittleEndian(header[4..]), BinaryPrimitives.ReadUInt32LittleEndian(header[8..]), (int)length);
    }
}

/// <summary>The peer broke the protocol (or the channel closed mid-frame).</summary>
public sealed class ProtocolException(string message) : Exception(message);

/// <summary>
/// Frames over one descriptor (a virtio-serial port, a unix socket): whole frames in, whole frames
/// out. The channel holds the descriptor's owner (not only its number), so the descriptor lives as
/// long as the channel: with the bare number, the owner's finalizer once closed the guest agent's
/// port at the first garbage collection after the owner's last use, and the number, reused, then
/// took the frames meant for the host.
/// </summary>
public sealed class FrameChannel(FileDescriptor descriptor, string what)
{
    readonly Lock writeGate = new();
    readonly int fd = descriptor.Fd;

    public FileDescriptor Descriptor => descriptor;

    public int Fd => fd;

    public void Write(Frame frame)
    {
        var bytes = frame.Encode();
        lock (writeGate)
            Libc.WriteAll(fd, bytes, what);
    }

    public void Write(FrameType type, uint stream, byte[]? payload = null) => Write(new Frame(type, stream, payload ?? []));

    /// <summary>The next frame, or null at end of file between frames.</summary>
    public Frame? Read()
    {
        Span<byte> header = stackalloc byte[Frame.HeaderSize];
        if (!ReadExactly(header, allowEof: true))
            return null;
        var (type, stream, length) = Frame.DecodeHeader(header);
        var payload = new byte[length];
        ReadExactly(payload, allowEof: false);
        return new Frame(type, stream, payload);
    }

    bool ReadExactly(Span<byte> buffer, bool allowEof)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = Libc.Read(fd, buffer[done..], what);
            if (n == 0)
            {
                if (done == 0 && allowEof)
                    return false;
                throw new ProtocolException($"{what} closed in the middle of a frame");
            }
            done += n;
        }
        return true;
    }
}
