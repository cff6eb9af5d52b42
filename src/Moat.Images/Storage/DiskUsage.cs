using Moat.Images.Model;

namespace Moat.Images.Storage;

/// <summary>One image's share of the store, as `docker system df -v` shows it.</summary>
/// <param name="Size">Every blob the image holds.</param>
/// <param name="SharedSize">The part of <paramref name="Size"/> that other images hold too.</param>
/// <param name="UniqueSize">The part only this image holds: what removing it frees.</param>
/// <param name="Containers">How many containers use it.</param>
public sealed record ImageUsage(ImageRecord Image, long Size, long SharedSize, long UniqueSize, int Containers);

/// <summary>The image store's disk usage; every byte counted once however many images share it.</summary>
/// <param name="TotalBytes">Every committed blob.</param>
/// <param name="ImageBytes">Blobs that at least one image holds.</param>
/// <param name="UnreferencedBytes">Blobs no image holds (garbage collection frees them now).</param>
/// <param name="ReclaimableBytes">Blobs no image in use by a container holds: what `image prune -a` frees.</param>
/// <param name="DanglingReclaimableBytes">Blobs held by nothing but unused dangling images (or nothing): what `image prune` frees.</param>
public sealed record DiskUsageReport(
    IReadOnlyList<ImageUsage> Images, int ActiveImages,
    long TotalBytes, long ImageBytes, long UnreferencedBytes, long ReclaimableBytes, long DanglingReclaimableBytes);

public static class DiskUsage
{
    /// <param name="referencesOf">The blobs an image holds; <see cref="ImageReferences.BlobsOf"/> when null.</param>
    public static DiskUsageReport Compute(IBlobStore blobs, IImageCatalog catalog, Func<ImageRecord, IEnumerable<Digest>>? referencesOf = null)
    {
        referencesOf ??= image => ImageReferences.BlobsOf(blobs, image);
        var sizes = new Dictionary<Digest, long>();
        foreach (var (digest, size) in blobs.List())
            sizes[digest] = size;

        var images = catalog.List();
        var held = new List<(ImageRecord Image, HashSet<Digest> Blobs, int Containers)>(images.Count);
        var holders = new Dictionary<Digest, int>();
        foreach (var image in images)
        {
            var present = new HashSet<Digest>(referencesOf(image).Where(sizes.ContainsKey));
            foreach (var digest in present)
                holders[digest] = holders.GetValueOrDefault(digest) + 1;
            held.Add((image, present, catalog.UsersOf(image.Id).Count));
        }

        var usages = new List<ImageUsage>(held.Count);
        var inUse = new HashSet<Digest>();
        var keptByPrune = new HashSet<Digest>();
        foreach (var (image, present, containers) in held)
        {
            long size = 0, shared = 0;
            foreach (var digest in present)
            {
                size += sizes[digest];
                if (holders[digest] > 1)
                    shared += sizes[digest];
            }
            usages.Add(new ImageUsage(image, size, shared, size - shared, containers));
            if (containers > 0)
                inUse.UnionWith(present);
            if (containers > 0 || image.Names.Count > 0)
                keptByPrune.UnionWith(present);
        }

        var total = sizes.Values.Sum();
        var imageBytes = holders.Keys.Sum(digest => sizes[digest]);
        return new DiskUsageReport(usages, held.Count(h => h.Containers > 0),
            TotalBytes: total,
            ImageBytes: imageBytes,
            UnreferencedBytes: total - imageBytes,
            ReclaimableBytes: total - inUse.Sum(digest => sizes[digest]),
            DanglingReclaimableBytes: total - keptByPrune.Sum(digest => sizes[digest]));
    }
}
