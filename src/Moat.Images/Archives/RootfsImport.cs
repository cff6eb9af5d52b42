using Moat.Oci;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Images.Archives;

/// <summary>What `moat import` was asked for besides the tarball.</summary>
public sealed record ImportOptions
{
    /// <summary>`--change` instructions (see <see cref="ImageChanges"/>).</summary>
    public IReadOnlyList<string> Changes { get; init; } = [];
    /// <summary>`--message`: the history entry's comment.</summary>
    public string? Message { get; init; }
    /// <summary>The image's creation time; now when null.</summary>
    public DateTimeOffset? Created { get; init; }
    /// <summary>Where the compressed layer is staged before it enters the store (its digest must be known first).</summary>
    public string? TemporaryDirectory { get; init; }
}

/// <summary>An imported image: its manifest (stored, exact bytes) and config digest, the image id.</summary>
public sealed record ImportedImage(Digest ManifestDigest, byte[] Manifest, Digest ConfigDigest);

/// <summary>
/// `moat import`: a root filesystem tarball (plain, gzip or zstd, told apart by their magic) becomes a
/// one-layer image, as `docker import` makes it — the layer stored gzip-compressed, its diff_id (the
/// uncompressed tar) and digest (the gzip stream) computed in the one pass that compresses it; a config
/// with that diff_id, this machine's platform, a "moat import" history entry and the changes asked for;
/// an OCI manifest.
/// </summary>
public static class RootfsImport
{
    const int ChunkSize = 1 << 16;

    public static ImportedImage Import(Stream tarball, IBlobStore store, ImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new ImportOptions();
        var config = new ContainerConfig();
        foreach (var change in options.Changes)
            ImageChanges.Apply(config, change);

        var head = new byte[4];
        var headLength = tarball.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var input = new PrefixedStream(head[..headLength], tarball);
        Stream uncompressed = CompressionMagic.Detect(head.AsSpan(0, headLength)) switch
        {
            LayerCompression.Gzip => new GZipStream(input, CompressionMode.Decompress, leaveOpen: true),
            LayerCompression.Zstd => new Layers.ZstdDecompressionStream(input, leaveOpen: true),
            _ => input,
        };

        using var staged = TemporaryFile.Create(options.TemporaryDirectory);
        Digest diffId, layerDigest;
        using (var diffHasher = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256))
        using (var hashing = new HashingWriteStream(staged))
        {
            using (var gzip = new GZipStream(hashing, CompressionLevel.Fastest, leaveOpen: true))
            {
                // The compressor is fed whole chunks, so the same tar gives the same layer digest however the input was read.
                var chunk = new byte[ChunkSize];
                var filled = 0;
                void Observe(ReadOnlySpan<byte> bytes)
                {
                    diffHasher.AppendData(bytes);
                    while (bytes.Length > 0)
                    {
                        var n = Math.Min(bytes.Length, chunk.Length - filled);
                        bytes[..n].CopyTo(chunk.AsSpan(filled));
                        filled += n;
                        bytes = bytes[n..];
                        if (filled == chunk.Length)
                        {
                            gzip.Write(chunk);
                            filled = 0;
                        }
                    }
                }
                ReadWholeTar(new ObservedReadStream(uncompressed, Observe));
                gzip.Write(chunk, 0, filled);
            }
            diffId = Digest.FromHash("sha256", diffHasher.GetHashAndReset());
            layerDigest = hashing.Digest();
        }
        var layerSize = staged.Length;
        staged.Position = 0;
        using (var ingest = store.BeginIngest(layerDigest, layerSize))
        {
            if (!ingest.AlreadyPresent)
            {
                if (ingest.Offset != 0)
                    ingest.Restart();
                staged.CopyTo(ingest.Stream);
                ingest.Commit();
            }
        }

        var created = options.Created ?? DateTimeOffset.UtcNow;
        var image = new ImageConfig
        {
            Created = created,
            Architecture = HostPlatform.Architecture,
            Os = HostPlatform.Os,
            Config = config,
            RootFs = new RootFs { DiffIds = [diffId.ToString()] },
            History = [new HistoryEntry { Created = created, CreatedBy = "moat import", Comment = string.IsNullOrEmpty(options.Message) ? null : options.Message }],
        };
        var configBytes = JsonSerializer.SerializeToUtf8Bytes(image, ImageJsonContext.Default.ImageConfig);
        var configDigest = store.Put(configBytes);
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configDigest.ToString(), Size = configBytes.Length },
            Layers = [new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = layerDigest.ToString(), Size = layerSize }],
        };
        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest);
        return new ImportedImage(store.Put(manifestBytes), manifestBytes, configDigest);
    }

    /// <summary>
    /// Walks every member to the end-of-archive marker (and reads what follows): garbage, a damaged
    /// compressed stream or a truncated archive fails here, before anything is stored.
    /// </summary>
    static void ReadWholeTar(Stream tarStream)
    {
        var members = 0;
        try
        {
            using (var reader = new TarReader(tarStream, leaveOpen: true))
            {
                while (reader.GetNextEntry(copyData: false) is not null)
                    members++;
            }
            tarStream.CopyTo(Stream.Null);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new ArchiveException(members == 0
                ? $"the input is not a tar archive (or its compression is damaged): {ErrorText.Reason(e)}"
                : $"the tarball is damaged or truncated after {members} members: {ErrorText.Reason(e)}", e);
        }
        if (members == 0)
            throw new ArchiveException("the input is not a tar archive, or an empty one: it holds no files");
    }
}
