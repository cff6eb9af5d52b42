using Moat.Oci;
using System.IO.Compression;
using Moat.Images.Model;
using Moat.Interop;

namespace Moat.Images.Layers;

/// <summary>
/// Unpacks a layer blob (tar, tar+gzip, tar+zstd) into a directory in one pass: decompress, hash the
/// uncompressed tar for the diff_id, and write each member, confined to the directory.
/// </summary>
public static class LayerUnpacker
{
    /// <summary>
    /// Unpacks <paramref name="blob"/> into <paramref name="targetDirectory"/> (made if missing). On failure
    /// the directory holds a partial tree that the caller removes (nothing in it is made unremovable).
    /// </summary>
    /// <exception cref="LayerUnpackException">The blob is corrupt, truncated, too large, or holds a member refused for safety.</exception>
    public static UnpackResult Unpack(Stream blob, LayerCompression compression, string targetDirectory, UnpackOptions options)
    {
        Directory.CreateDirectory(targetDirectory);
        // The caller owns blob; only the decompressor wrapped around it is ours to dispose.
        using var decompressor = compression switch
        {
            LayerCompression.None => null,
            LayerCompression.Gzip => new GZipStream(blob, CompressionMode.Decompress, leaveOpen: true),
            LayerCompression.Zstd => OpenZstd(blob),
            _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "not a layer compression"),
        };
        using var reader = new LayerTarReader(decompressor ?? blob, options.MaxBytes);
        using var writer = new LayerWriter(RootedDirectory.Open(targetDirectory), options);
        var entry = new TarEntry();
        long entries = 0;
        while (reader.Next(entry))
        {
            try
            {
                writer.Write(entry, reader);
            }
            catch (SyscallException e)
            {
                throw new LayerUnpackException($"unpacking the layer's member '{entry.Name}' into {targetDirectory}: {ErrorText.Reason(e)}", e);
            }
            entries++;
        }
        reader.DrainToEnd();
        if (reader.EndedWithoutTrailer && entries > 0)
            options.Warn?.Invoke("the layer's tar stream has no end-of-archive blocks; every member it holds was unpacked");
        if (reader.TotalBytes == 0)
            throw new LayerUnpackException("the layer is empty: not even a tar end-of-archive block");
        writer.Finish();
        return new UnpackResult(Digest.FromHash("sha256", reader.Hash()), reader.TotalBytes, entries);
    }

    static Stream OpenZstd(Stream blob)
    {
        try
        {
            return new ZstdDecompressionStream(blob, leaveOpen: true);
        }
        catch (DllNotFoundException e)
        {
            throw new LayerUnpackException("this layer is zstd-compressed, and unpacking it needs libzstd.so.1 (Debian's libzstd1), which is not installed", e);
        }
    }

    /// <summary>Unpacks a blob file.</summary>
    public static UnpackResult Unpack(string blobPath, LayerCompression compression, string targetDirectory, UnpackOptions options)
    {
        using var blob = new FileStream(blobPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return Unpack(blob, compression, targetDirectory, options);
    }
}
