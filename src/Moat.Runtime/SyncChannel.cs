using System.Buffers.Binary;
using Moat.Interop;

namespace Moat.Runtime;

/// <summary>
/// Framed messages on the socket between the runtime and the process it creates: one tag byte, a
/// 32-bit little-endian length, the payload. native/spawn.c speaks the same frames before the exec.
/// </summary>
public sealed class SyncChannel : IDisposable
{
    public const byte ReadyForSetup = (byte)'R', Go = (byte)'G', Pid = (byte)'P', Error = (byte)'E',
        Config = (byte)'C', Created = (byte)'K', StateSaved = (byte)'S',
        HooksPoint = (byte)'H', HooksDone = (byte)'h', Console = (byte)'T', Placed = (byte)'J';

    public SyncChannel(FileDescriptor socket) => Socket = socket;

    public FileDescriptor Socket { get; }

    public void Send(byte tag, ReadOnlySpan<byte> payload = default)
    {
        Span<byte> header = stackalloc byte[5];
        header[0] = tag;
        BinaryPrimitives.WriteUInt32LittleEndian(header[1..], (uint)payload.Length);
        Libc.WriteAll(Socket.Fd, header, "sync socket");
        if (!payload.IsEmpty)
            Libc.WriteAll(Socket.Fd, payload, "sync socket");
    }

    /// <summary>Reads one frame; null when the other side closed without a word (it died).</summary>
    public (byte Tag, byte[] Payload)? Receive()
    {
        Span<byte> header = stackalloc byte[5];
        if (!ReadExactly(header, allowEof: true))
            return null;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header[1..]);
        if (length > 64 * 1024 * 1024)
            throw new InvalidDataException($"sync socket: frame of {length} bytes is too large");
        var payload = new byte[length];
        ReadExactly(payload, allowEof: false);
        return (header[0], payload);
    }

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

    public void Dispose() => Socket.Dispose();
}
