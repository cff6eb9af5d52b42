using Moat.Images.Model;

namespace Moat.Images.Archives;

/// <summary>A stream's compression from its first bytes: gzip (1f 8b), zstd (28 b5 2f fd), otherwise none.</summary>
internal static class CompressionMagic
{
    public static LayerCompression Detect(ReadOnlySpan<byte> head) =>
        head is [0x1f, 0x8b, ..] ? LayerCompression.Gzip
        : head is [0x28, 0xb5, 0x2f, 0xfd, ..] ? LayerCompression.Zstd
        : LayerCompression.None;
}
