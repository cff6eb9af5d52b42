namespace Moat.Images.Archives;

/// <summary>A read-only stream that shows every byte read from it to an observer: one pass both parses and hashes/compresses.</summary>
internal sealed class ObservedReadStream(Stream source, Action<ReadOnlySpan<byte>> observe) : IO.ForwardOnlyReadStream
{
    public override int Read(Span<byte> buffer)
    {
        var n = source.Read(buffer);
        if (n > 0)
            observe(buffer[..n]);
        return n;
    }

}
