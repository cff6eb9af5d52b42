using System.Text.Json;
using Moat.Images.Model;

namespace Moat.Images.Storage;

/// <summary>Which blobs an image holds on to: what garbage collection keeps and disk usage counts.</summary>
public static class ImageReferences
{
    // Registries refuse manifests above 4 MiB; a bigger blob is a layer, not a document to follow.
    const long MaxDocumentSize = 4 << 20;

    /// <summary>
    /// The image's config (its id), its manifest with the manifest's config and layers, and every index
    /// its repo digests name (an image pulled through an index keeps that index), with the manifests the
    /// index lists that are in the store. Blobs not in the store are included too: callers intersect
    /// with what exists.
    /// </summary>
    public static HashSet<Digest> BlobsOf(IBlobStore blobs, ImageRecord image)
    {
        var reached = new HashSet<Digest>();
        reached.Add(image.Id);
        Follow(blobs, image.ManifestDigest, reached);
        foreach (var repoDigest in image.RepoDigests)
        {
            var at = repoDigest.LastIndexOf('@');
            if (at > 0 && Digest.TryParse(repoDigest[(at + 1)..], out var digest))
                Follow(blobs, digest, reached);
        }
        return reached;
    }

    /// <summary>Adds a manifest or index and, when the store has it, what it references.</summary>
    static void Follow(IBlobStore blobs, Digest document, HashSet<Digest> reached)
    {
        if (!reached.Add(document) || blobs.SizeOf(document) is not (> 0 and <= MaxDocumentSize))
            return;
        var bytes = blobs.ReadAll(document);
        ManifestProbe? probe;
        try
        {
            probe = JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ManifestProbe);
        }
        catch (JsonException)
        {
            return; // Not a document (a config, say): it references nothing.
        }
        if (probe is null)
            return;
        if (probe.Manifests is { ValueKind: JsonValueKind.Array })
        {
            var index = JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ImageIndex);
            foreach (var child in index?.Manifests ?? [])
                if (Digest.TryParse(child.Digest, out var digest))
                    Follow(blobs, digest, reached);
        }
        else if (probe.Layers is { ValueKind: JsonValueKind.Array })
        {
            var manifest = JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ImageManifest);
            if (manifest is null)
                return;
            if (Digest.TryParse(manifest.Config.Digest, out var config))
                reached.Add(config);
            foreach (var layer in manifest.Layers)
                if (Digest.TryParse(layer.Digest, out var digest))
                    reached.Add(digest);
        }
    }
}
