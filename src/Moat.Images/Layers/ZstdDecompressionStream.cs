using Moat.Interop;

namespace Moat.Images.Layers;

/// <summary>
/// A read-only stream of the decompressed bytes of a zstd stream (one or more frames), through libzstd's
/// ZSTD_decompressStream. Input that ends inside a frame is an error, not a short read.
/// </summary>
public sealed unsafe class ZstdDecompressionStream : IO.ForwardOnlyReadStream
{
    readonly Stream source;
    readonly bool leaveOpen;
    readonly ZstdDecompressionContext context = new();
    readonly byte[] input;
    int inputLength, inputPosition;
    bool sourceEnded;
    // Whether the last frame seen was completely decoded and flushed (ZSTD_decompressStream returned 0
    // and no input was consumed since): the only clean place for the input to end.
    bool frameComplete;
    bool sawInput;

    public ZstdDecompressionStream(Stream source, bool leaveOpen = false)
    {
        this.source = source;
        this.leaveOpen = leaveOpen;
        input = new byte[Math.Max((int)Libzstd.ZSTD_DStreamInSize(), 128 * 1024)];
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
            return 0;
        while (true)
        {
            if (inputPosition == inputLength && !sourceEnded)
            {
                inputLength = source.Read(input, 0, input.Length);
                inputPosition = 0;
                if (inputLength == 0)
                    sourceEnded = true;
                else
                    sawInput = true;
            }
            int produced;
            fixed (byte* pi = input, po = buffer)
            {
                var inBuffer = new Libzstd.InBuffer { Source = pi + inputPosition, Size = (nuint)(inputLength - inputPosition) };
                var outBuffer = new Libzstd.OutBuffer { Destination = po, Size = (nuint)buffer.Length };
                var code = Libzstd.ZSTD_decompressStream(context.Stream, &outBuffer, &inBuffer);
                if (Libzstd.IsError(code))
                    throw new InvalidDataException($"the zstd stream is corrupt: {Libzstd.ErrorName(code)}");
                if (code == 0)
                    frameComplete = true;
                else if (inBuffer.Position > 0)
                    frameComplete = false;
                inputPosition += (int)inBuffer.Position;
                produced = (int)outBuffer.Position;
            }
            if (produced > 0)
                return produced;
            if (inputPosition == inputLength && sourceEnded)
            {
                // Everything consumed and nothing left to flush: a clean end only if the last frame was complete.
                if (frameComplete && sawInput)
                    return 0;
                throw new InvalidDataException(sawInput ? "the zstd stream is truncated (it ends inside a frame)" : "the zstd stream is empty");
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            context.Dispose();
            if (!leaveOpen)
                source.Dispose();
        }
        base.Dispose(disposing);
    }

}
