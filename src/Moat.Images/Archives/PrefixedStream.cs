namespace Moat.Images.Archives;

/// <summary>Bytes already read (to sniff a format), then the rest of the stream: a read-only stream that need not seek.</summary>
internal sealed class PrefixedStream(byte[] prefix, Stream rest) : IO.ForwardOnlyReadStream
{
    int offset;

    public override int Read(Span<byte> buffer)
    {
        if (offset < prefix.Length)
        {
            var n = Math.Min(buffer.Length, prefix.Length - offset);
            prefix.AsSpan(offset, n).CopyTo(buffer);
            offset += n;
            return n;
        }
        return rest.Read(buffer);
    }

}
