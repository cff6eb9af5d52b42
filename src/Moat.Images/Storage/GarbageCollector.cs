using Moat.Images.Model;

namespace Moat.Images.Storage;

/// <summary>A blob that garbage collection removed (or would remove, in a dry run).</summary>
public readonly record struct CollectedBlob(Digest Digest, long Size);

public sealed record GarbageCollectionResult(IReadOnlyList<CollectedBlob> Removed, long BytesFreed, bool DryRun);

/// <summary>
/// Mark and sweep over the blob store: blobs reachable from some image of the catalogue stay, the
/// rest go. Blobs shared between images stay while any of them remains.
/// </summary>
public static class GarbageCollector
{
    /// <param name="referencesOf">The blobs an image holds; <see cref="ImageReferences.BlobsOf"/> when null.</param>
    /// <remarks>
    /// With a <see cref="BlobStore"/>, the sweep waits for writers holding <see cref="BlobStore.HoldAgainstCollection"/>
    /// (a pull between its first blob and its catalogue entry) and keeps them out until it is done.
    /// </remarks>
    public static GarbageCollectionResult Collect(IBlobStore blobs, IImageCatalog catalog, bool dryRun = false,
        Func<ImageRecord, IEnumerable<Digest>>? referencesOf = null, CancellationToken cancellation = default)
    {
        using var exclusive = blobs is BlobStore store ? store.LockForCollection(cancellation) : null;
        referencesOf ??= image => ImageReferences.BlobsOf(blobs, image);
        var reachable = new HashSet<Digest>();
        foreach (var image in catalog.List())
            reachable.UnionWith(referencesOf(image));
        var removed = new List<CollectedBlob>();
        long freed = 0;
        foreach (var (digest, size) in blobs.List().ToList())
        {
            if (reachable.Contains(digest))
                continue;
            cancellation.ThrowIfCancellationRequested();
            if (!dryRun)
                blobs.Delete(digest);
            removed.Add(new CollectedBlob(digest, size));
            freed += size;
        }
        return new GarbageCollectionResult(removed, freed, dryRun);
    }
}
