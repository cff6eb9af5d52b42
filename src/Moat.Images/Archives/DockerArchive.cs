using Moat.Oci;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Images.Archives;

/// <summary>
/// docker-archive, as `docker save` writes it: manifest.json (`[{Config, RepoTags, Layers}]`), the config
/// as `&lt;hex&gt;.json` and each layer as an uncompressed tar. Reading takes both layouts Docker has written
/// (`&lt;id&gt;/layer.tar` up to Docker 24, with symlinks for repeated layers; `blobs/sha256/&lt;hex&gt;` from
/// Docker 25) and the legacy `repositories` file for names; writing uses the classic layout, which
/// `docker load` and skopeo's docker-archive reader both take.
/// </summary>
public static class DockerArchive
{
    /// <summary>
    /// Reads a docker-archive into the store. Layers are stored as they are in the archive (uncompressed
    /// tars, media type <see cref="MediaTypes.DockerLayerTar"/>; a compressed Docker 25 blob keeps its
    /// compression), each verified against the config's diff_id or its blob digest; the config is stored
    /// verbatim; the manifest, which the archive does not have, is a Docker schema 2 manifest made here.
    /// A stream that cannot seek is first copied to a temporary file (the archive is read in three passes).
    /// </summary>
    public static IReadOnlyList<ArchivedImage> Read(Stream input, IBlobStore store, string? temporaryDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!input.CanSeek)
        {
            using var spooled = TemporaryFile.Create(temporaryDirectory);
            input.CopyTo(spooled);
            return Read(spooled, store, temporaryDirectory);
        }
        var start = input.Position;

        // Pass 1: the index documents, and every member's name (symlinks resolved inside the archive).
        var members = new ArchiveMembers();
        byte[]? manifestJson = null, repositoriesJson = null;
        Scan(input, start, (name, entry) =>
        {
            members.Add(name, entry);
            if (name == "manifest.json" && ArchiveEntries.IsRegularFile(entry))
                manifestJson = ArchiveEntries.ReadDocument(entry, "manifest.json");
            else if (name == "repositories" && ArchiveEntries.IsRegularFile(entry))
                repositoriesJson = ArchiveEntries.ReadDocument(entry, "repositories");
        });
        if (manifestJson is null)
        {
            throw new ArchiveException(members.Contains("oci-layout")
                ? "the archive has no manifest.json but an oci-layout: it is an oci-archive"
                : "the archive has no manifest.json: it is not a docker-archive (or one from Docker before 1.10, which Moat does not read)");
        }
        var entries = ArchiveEntries.ParseDocument(manifestJson, ArchiveJsonContext.Default.ListDockerArchiveManifestEntry, "manifest.json");
        if (entries.Count == 0)
            throw new ArchiveException("the archive's manifest.json lists no image");
        var legacyNames = repositoriesJson is null ? null
            : ArchiveEntries.ParseDocument(repositoriesJson, ArchiveJsonContext.Default.DictionaryStringDictionaryStringString, "repositories");

        // Pass 2: the configs, stored verbatim (their digest is the image id).
        var configPaths = entries.Select(e => members.Resolve(e.Config, "manifest.json")).ToHashSet(StringComparer.Ordinal);
        var configs = new Dictionary<string, (Digest Digest, ImageConfig Config, long Size)>(StringComparer.Ordinal);
        Scan(input, start, (name, entry) =>
        {
            if (!configPaths.Contains(name) || !ArchiveEntries.IsRegularFile(entry))
                return;
            var bytes = ArchiveEntries.ReadDocument(entry, name);
            var config = ArchiveEntries.ParseDocument(bytes, ImageJsonContext.Default.ImageConfig, name);
            if (ArchiveEntries.BlobDigestOf(name) is { } named && named != Digest.Sha256(bytes))
                throw new ArchiveException($"{name} in the archive does not match its digest");
            configs[name] = (store.Put(bytes), config, bytes.Length);
        });

        // Which digest each layer member must have: its blob name, or the config's diff_id.
        var layerDigests = new Dictionary<string, Digest>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var configPath = members.Resolve(entry.Config, "manifest.json");
            if (!configs.TryGetValue(configPath, out var config))
                throw new ArchiveException($"the archive lacks {entry.Config}, the config manifest.json names");
            var diffIds = config.Config.RootFs.DiffIds;
            if (diffIds.Count != entry.Layers.Count)
                throw new ArchiveException($"manifest.json lists {entry.Layers.Count} layers for {entry.Config}, whose config has {diffIds.Count} diff_ids");
            for (var i = 0; i < entry.Layers.Count; i++)
            {
                var path = members.Resolve(entry.Layers[i], "manifest.json");
                var expected = ArchiveEntries.BlobDigestOf(path) ?? ParseDigest(diffIds[i], entry.Config);
                if (layerDigests.TryGetValue(path, out var other) && other != expected)
                    throw new ArchiveException($"layer {path} is named with two different digests ({other}, {expected})");
                layerDigests[path] = expected;
            }
        }

        // Pass 3: the layers, verified as they stream into the store.
        Scan(input, start, (name, entry) =>
        {
            if (layerDigests.TryGetValue(name, out var digest) && ArchiveEntries.IsRegularFile(entry) && entry.DataStream is { } data)
                ArchiveEntries.Ingest(store, data, digest, entry.Length, name);
        });

        var images = new List<ArchivedImage>();
        foreach (var entry in entries)
        {
            var (configDigest, config, configSize) = configs[members.Resolve(entry.Config, "manifest.json")];
            var manifest = new ImageManifest
            {
                SchemaVersion = 2,
                MediaType = MediaTypes.DockerManifest,
                Config = new Descriptor { MediaType = MediaTypes.DockerConfig, Digest = configDigest.ToString(), Size = configSize },
            };
            foreach (var layer in entry.Layers)
            {
                var path = members.Resolve(layer, "manifest.json");
                var digest = layerDigests[path];
                var size = store.SizeOf(digest) ?? throw new ArchiveException($"the archive lacks {layer}, a layer manifest.json names");
                manifest.Layers.Add(new Descriptor { MediaType = LayerMediaType(store, digest), Digest = digest.ToString(), Size = size });
            }
            var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest);
            var manifestDigest = store.Put(bytes);
            var names = entry.RepoTags is { Count: > 0 } tags ? tags : LegacyNames(legacyNames, entry, members);
            images.Add(new ArchivedImage(manifestDigest, MediaTypes.DockerManifest, bytes, configDigest, names));
        }
        return images;
    }

    /// <summary>
    /// Writes the images in the classic `docker save` layout. Compressed layers are decompressed (the
    /// format wants tars), and the result is checked against the config's diff_id on the way.
    /// </summary>
    public static void Write(IBlobStore store, IReadOnlyList<ArchiveSource> images, Stream output, string? temporaryDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (images.Count == 0)
            throw new ArchiveException("no image to write into the archive");
        using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var written = new HashSet<string>(StringComparer.Ordinal);
        var manifestEntries = new List<DockerArchiveManifestEntry>();
        var repositories = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var image in images)
        {
            var manifest = ImageManifestOf(store, image.ManifestDigest);
            var configDigest = ParseDigest(manifest.Config.Digest, $"manifest {image.ManifestDigest}");
            var configBytes = store.ReadAll(configDigest);
            var config = ArchiveEntries.ParseDocument(configBytes, ImageJsonContext.Default.ImageConfig, $"config {configDigest}");
            if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
                throw new ArchiveException($"config {configDigest} has {config.RootFs.DiffIds.Count} diff_ids for {manifest.Layers.Count} layers");

            var entry = new DockerArchiveManifestEntry { Config = configDigest.Hex + ".json", RepoTags = [.. image.Names] };
            for (var i = 0; i < manifest.Layers.Count; i++)
            {
                var diffId = ParseDigest(config.RootFs.DiffIds[i], $"config {configDigest}");
                var path = $"{diffId.Hex}/layer.tar";
                entry.Layers.Add(path);
                if (!written.Add(path))
                    continue;
                TarOutput.WriteDirectory(tar, diffId.Hex + "/");
                var layer = manifest.Layers[i];
                using var content = UncompressedLayer(store, ParseDigest(layer.Digest, $"manifest {image.ManifestDigest}"), layer.MediaType, diffId, temporaryDirectory);
                TarOutput.WriteFile(tar, path, content);
            }
            if (written.Add(entry.Config))
                TarOutput.WriteFile(tar, entry.Config, configBytes);
            manifestEntries.Add(entry);

            foreach (var name in image.Names)
            {
                var (repository, tag) = SplitTag(name);
                if (tag is not null && entry.Layers.Count > 0)
                {
                    if (!repositories.TryGetValue(repository, out var tags))
                        repositories[repository] = tags = new Dictionary<string, string>(StringComparer.Ordinal);
                    tags[tag] = entry.Layers[^1].Split('/')[0];
                }
            }
        }
        TarOutput.WriteFile(tar, "manifest.json", JsonSerializer.SerializeToUtf8Bytes(manifestEntries, ArchiveJsonContext.Default.ListDockerArchiveManifestEntry));
        if (repositories.Count > 0)
            TarOutput.WriteFile(tar, "repositories", JsonSerializer.SerializeToUtf8Bytes(repositories, ArchiveJsonContext.Default.DictionaryStringDictionaryStringString));
    }

    static ImageManifest ImageManifestOf(IBlobStore store, Digest digest)
    {
        var bytes = store.ReadAll(digest);
        var kind = ManifestKind.Of(bytes);
        if (MediaTypes.IsIndex(kind))
        {
            // A docker-archive holds single-platform images: take this machine's.
            var index = ArchiveEntries.ParseDocument(bytes, ImageJsonContext.Default.ImageIndex, $"index {digest}");
            var child = index.Manifests.FirstOrDefault(m => m.Platform is { } p && p.Os == HostPlatform.Os && p.Architecture == HostPlatform.Architecture
                    && Digest.TryParse(m.Digest, out var d) && store.Contains(d))
                ?? throw new ArchiveException($"index {digest} has no image for {HostPlatform.Os}/{HostPlatform.Architecture} in the store");
            return ImageManifestOf(store, ParseDigest(child.Digest, $"index {digest}"));
        }
        if (!MediaTypes.IsManifest(kind))
            throw new ArchiveException($"{digest} is a \"{kind}\", not an image manifest");
        return ArchiveEntries.ParseDocument(bytes, ImageJsonContext.Default.ImageManifest, $"manifest {digest}");
    }

    static Stream UncompressedLayer(IBlobStore store, Digest blob, string mediaType, Digest diffId, string? temporaryDirectory)
    {
        var compression = MediaTypes.LayerCompressionOf(mediaType);
        if (compression == LayerCompression.None)
            return store.Open(blob);
        // The tar writer needs the length up front: decompress into a temporary file, hashing as it goes.
        var file = TemporaryFile.Create(temporaryDirectory);
        try
        {
            using (var compressed = store.Open(blob))
            using (Stream gzip = compression == LayerCompression.Zstd
                ? new Layers.ZstdDecompressionStream(compressed, leaveOpen: true)
                : new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true))
            using (var hasher = diffId.CreateHasher())
            {
                var buffer = new byte[1 << 16];
                int n;
                while ((n = gzip.Read(buffer)) > 0)
                {
                    hasher.AppendData(buffer, 0, n);
                    file.Write(buffer, 0, n);
                }
                if (Digest.FromHash(diffId.Algorithm, hasher.GetHashAndReset()) != diffId)
                    throw new ArchiveException($"layer {blob} decompresses to content that is not its diff_id {diffId}");
            }
            file.Position = 0;
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Uncompressed unless the blob starts with gzip's or zstd's magic (a Docker 25 archive may hold compressed blobs).</summary>
    static string LayerMediaType(IBlobStore store, Digest digest)
    {
        using var blob = store.Open(digest);
        Span<byte> magic = stackalloc byte[4];
        var n = blob.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        return CompressionMagic.Detect(magic[..n]) switch
        {
            LayerCompression.Gzip => MediaTypes.DockerLayerGzip,
            LayerCompression.Zstd => MediaTypes.OciLayerZstd,
            _ => MediaTypes.DockerLayerTar,
        };
    }

    static IReadOnlyList<string> LegacyNames(Dictionary<string, Dictionary<string, string>>? repositories, DockerArchiveManifestEntry entry, ArchiveMembers members)
    {
        if (repositories is null || entry.Layers.Count == 0)
            return [];
        // The legacy file maps repo -> tag -> id of the image's top layer (the directory of its layer.tar).
        var topLayer = entry.Layers[^1].Split('/')[0];
        return repositories.SelectMany(r => r.Value.Where(t => t.Value == topLayer).Select(t => $"{r.Key}:{t.Key}")).ToList();
    }

    static (string Repository, string? Tag) SplitTag(string name)
    {
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') && colon > 0 ? (name[..colon], name[(colon + 1)..]) : (name, null);
    }

    static void Scan(Stream input, long start, Action<string, TarEntry> visit)
    {
        input.Position = start;
        try
        {
            using var tar = new TarReader(input, leaveOpen: true);
            while (tar.GetNextEntry() is { } entry)
            {
                if (ArchiveEntries.NormalizeName(entry.Name) is { } name)
                    visit(name, entry);
            }
        }
        catch (InvalidDataException e)
        {
            throw new ArchiveException($"the archive is not a valid tar file: {ErrorText.Reason(e)}", e);
        }
    }

    static Digest ParseDigest(string text, string where) =>
        Digest.TryParse(text, out var digest) ? digest : throw new ArchiveException($"{where} has \"{text}\", which is not a digest");
}
