using System.Buffers.Binary;
using System.Text;

namespace Moat.Vm.Protocol;

/// <summary>Builds a frame's payload: little-endian integers, length-prefixed (u32) bytes and UTF-8 strings.</summary>
public sealed class PayloadWriter
{
    readonly List<byte> bytes = [];

    public PayloadWriter U8(byte value)
    {
        bytes.Add(value);
        return this;
    }

    public PayloadWriter U16(ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        bytes.AddRange(b);
        return this;
    }

    public PayloadWriter U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        bytes.AddRange(b);
        return this;
    }

    public PayloadWriter I32(int value) => U32(unchecked((uint)value));

    public PayloadWriter Bytes(ReadOnlySpan<byte> value)
    {
        U32((uint)value.Length);
        bytes.AddRange(value);
        return this;
    }

    public PayloadWriter String(string value) => Bytes(Encoding.UTF8.GetBytes(value));

    public byte[] ToArray() => [.. bytes];
}

/// <summary>Reads a payload written by <see cref="PayloadWriter"/>; a short or malformed one is a <see cref="ProtocolException"/>.</summary>
public ref struct PayloadReader(ReadOnlySpan<byte> payload)
{
    ReadOnlySpan<byte> rest = payload;

    ReadOnlySpan<byte> Take(int count)
    {
        if (rest.Length < count)
            throw new ProtocolException("a frame's payload is shorter than its type says");
        var taken = rest[..count];
        rest = rest[count..];
        return taken;
    }

    public byte U8() => Take(1)[0];

    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public int I32() => unchecked((int)U32());

    public byte[] Bytes()
    {
        var length = U32();
        if (length > rest.Length)
            throw new ProtocolException("a frame's payload is shorter than its type says");
        return Take((int)length).ToArray();
    }

    public string String() => Encoding.UTF8.GetString(Bytes());
}
