using Moat.Oci;
using System.Formats.Tar;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Images.Archives;

/// <summary>
/// oci-archive: a tar of an OCI image layout (`oci-layout`, `index.json`, `blobs/&lt;alg&gt;/&lt;hex&gt;`), as
/// `skopeo copy ... oci-archive:FILE:tag` and `podman save --format oci-archive` write it. Each name an
/// image has becomes one index.json entry annotated `org.opencontainers.image.ref.name`.
/// </summary>
public static class OciArchive
{
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";
    const string LayoutVersion = "1.0.0";

    /// <summary>Writes the images (their manifests, configs and layers, each blob once) from the store as an oci-archive.</summary>
    public static void Write(IBlobStore store, IReadOnlyList<ArchiveSource> images, Stream output)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (images.Count == 0)
            throw new ArchiveException("no image to write into the archive");
        var blobs = new List<Digest>();
        var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex };
        foreach (var image in images)
        {
            var manifest = store.ReadAll(image.ManifestDigest);
            var mediaType = CollectBlobs(store, image.ManifestDigest, manifest, blobs);
            var names = image.Names.Count > 0 ? image.Names : [null!];
            foreach (var name in names)
            {
                index.Manifests.Add(new Descriptor
                {
                    MediaType = mediaType,
                    Digest = image.ManifestDigest.ToString(),
                    Size = manifest.Length,
                    Annotations = name is null ? null : new Dictionary<string, string> { [RefNameAnnotation] = name },
                });
            }
        }

        using var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        TarOutput.WriteFile(tar, "oci-layout", JsonSerializer.SerializeToUtf8Bytes(new OciLayoutFile { ImageLayoutVersion = LayoutVersion }, ArchiveJsonContext.Default.OciLayoutFile));
        TarOutput.WriteDirectory(tar, "blobs/");
        foreach (var algorithm in blobs.Select(b => b.Algorithm).Distinct())
            TarOutput.WriteDirectory(tar, $"blobs/{algorithm}/");
        foreach (var blob in blobs)
        {
            using var content = store.Open(blob);
            TarOutput.WriteFile(tar, $"blobs/{blob.Algorithm}/{blob.Hex}", content);
        }
        TarOutput.WriteFile(tar, "index.json", JsonSerializer.SerializeToUtf8Bytes(index, ImageJsonContext.Default.ImageIndex));
    }

    /// <summary>
    /// Reads an oci-archive into the store (every blob verified against its digest) and returns the images
    /// its index.json names. An index entry that is itself an index resolves to the manifest for this machine.
    /// </summary>
    public static IReadOnlyList<ArchivedImage> Read(Stream input, IBlobStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        byte[]? indexJson = null;
        var sawLayout = false;
        try
        {
            using var tar = new TarReader(input, leaveOpen: true);
            while (tar.GetNextEntry() is { } entry)
            {
                if (ArchiveEntries.NormalizeName(entry.Name) is not { } name || !ArchiveEntries.IsRegularFile(entry))
                    continue;
                if (name == "oci-layout")
                {
                    var layout = ArchiveEntries.ParseDocument(ArchiveEntries.ReadDocument(entry, "oci-layout"), ArchiveJsonContext.Default.OciLayoutFile, "oci-layout");
                    if (layout.ImageLayoutVersion != LayoutVersion)
                        throw new ArchiveException($"the archive's oci-layout has version \"{layout.ImageLayoutVersion}\"; Moat reads {LayoutVersion}");
                    sawLayout = true;
                }
                else if (name == "index.json")
                {
                    indexJson = ArchiveEntries.ReadDocument(entry, "index.json");
                }
                else if (ArchiveEntries.BlobDigestOf(name) is { } digest && entry.DataStream is { } data)
                {
                    ArchiveEntries.Ingest(store, data, digest, entry.Length, name);
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw new ArchiveException($"the archive is not a valid tar file: {ErrorText.Reason(e)}", e);
        }
        if (!sawLayout)
            throw new ArchiveException("the archive has no oci-layout file: it is not an oci-archive (a docker-archive has manifest.json instead)");
        if (indexJson is null)
            throw new ArchiveException("the archive has no index.json: it names no image");

        var index = ArchiveEntries.ParseDocument(indexJson, ImageJsonContext.Default.ImageIndex, "index.json");
        var found = new List<ArchivedImage>();
        foreach (var descriptor in index.Manifests)
        {
            var image = Resolve(store, descriptor);
            var name = descriptor.Annotations?.GetValueOrDefault(RefNameAnnotation);
            var existing = found.FindIndex(f => f.ManifestDigest == image.ManifestDigest);
            if (existing >= 0)
            {
                if (name is not null && !found[existing].Names.Contains(name))
                    found[existing] = found[existing] with { Names = [.. found[existing].Names, name] };
            }
            else
            {
                found.Add(image with { Names = name is null ? [] : [name] });
            }
        }
        return found;
    }

    static ArchivedImage Resolve(IBlobStore store, Descriptor descriptor)
    {
        var digest = ParseDigest(descriptor.Digest, "index.json");
        var bytes = ReadVerified(store, digest, descriptor.Size);
        if (MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsIndex(ManifestKind.Of(bytes)))
        {
            var nested = ArchiveEntries.ParseDocument(bytes, ImageJsonContext.Default.ImageIndex, $"index {digest}");
            var child = nested.Manifests.FirstOrDefault(m =>
                    m.Platform is { } p && p.Os == HostPlatform.Os && p.Architecture == HostPlatform.Architecture && store.Contains(ParseDigest(m.Digest, $"index {digest}")))
                ?? throw new ArchiveException($"the archive's index {digest} has no image for {HostPlatform.Os}/{HostPlatform.Architecture}");
            return Resolve(store, child);
        }
        return CheckManifest(store, digest, bytes, descriptor.MediaType);
    }

    /// <summary>The manifest's config and layers must all be in the store: an archive missing one is refused by name.</summary>
    internal static ArchivedImage CheckManifest(IBlobStore store, Digest digest, byte[] bytes, string? mediaType)
    {
        var manifest = ArchiveEntries.ParseDocument(bytes, ImageJsonContext.Default.ImageManifest, $"manifest {digest}");
        var type = manifest.MediaType ?? mediaType ?? MediaTypes.OciManifest;
        if (!MediaTypes.IsManifest(type))
            throw new ArchiveException($"manifest {digest} has media type \"{type}\", not an image manifest");
        foreach (var blob in manifest.Layers.Prepend(manifest.Config))
        {
            var blobDigest = ParseDigest(blob.Digest, $"manifest {digest}");
            if (store.SizeOf(blobDigest) is not { } size)
                throw new ArchiveException($"the archive lacks blob {blobDigest}, which manifest {digest} references");
            if (size != blob.Size)
                throw new ArchiveException($"blob {blobDigest} has {size} bytes, but manifest {digest} says {blob.Size}");
        }
        return new ArchivedImage(digest, type, bytes, ParseDigest(manifest.Config.Digest, $"manifest {digest}"), []);
    }

    /// <summary>Adds the manifest's blobs (children first for an index, then config and layers, then the manifest itself).</summary>
    static string CollectBlobs(IBlobStore store, Digest digest, byte[] manifest, List<Digest> blobs)
    {
        var kind = ManifestKind.Of(manifest);
        if (MediaTypes.IsIndex(kind))
        {
            var index = ArchiveEntries.ParseDocument(manifest, ImageJsonContext.Default.ImageIndex, $"index {digest}");
            foreach (var child in index.Manifests)
            {
                var childDigest = ParseDigest(child.Digest, $"index {digest}");
                // An index pulled for one platform has only that platform's manifest: the others stay out.
                if (store.Contains(childDigest))
                    CollectBlobs(store, childDigest, store.ReadAll(childDigest), blobs);
            }
        }
        else
        {
            var parsed = ArchiveEntries.ParseDocument(manifest, ImageJsonContext.Default.ImageManifest, $"manifest {digest}");
            foreach (var blob in parsed.Layers.Prepend(parsed.Config))
            {
                var blobDigest = ParseDigest(blob.Digest, $"manifest {digest}");
                if (!store.Contains(blobDigest))
                    throw new ArchiveException($"the store lacks blob {blobDigest} of manifest {digest}: the image is incomplete");
                if (!blobs.Contains(blobDigest))
                    blobs.Add(blobDigest);
            }
        }
        if (!blobs.Contains(digest))
            blobs.Add(digest);
        return kind;
    }

    static byte[] ReadVerified(IBlobStore store, Digest digest, long size)
    {
        if (store.SizeOf(digest) is not { } stored)
            throw new ArchiveException($"the archive lacks blob {digest}, which its index.json names");
        if (stored != size)
            throw new ArchiveException($"blob {digest} has {stored} bytes, but the archive's index says {size}");
        return store.ReadAll(digest);
    }

    static Digest ParseDigest(string text, string where) =>
        Digest.TryParse(text, out var digest) ? digest : throw new ArchiveException($"{where} has \"{text}\", which is not a digest");
}
