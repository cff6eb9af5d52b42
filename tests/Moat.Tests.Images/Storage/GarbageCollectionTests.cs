using System.Text;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Tests.Images.Storage;

public class GarbageCollectionTests : IDisposable
{
    readonly TempDirectory temp = new();
    readonly BlobStore blobs;
    readonly ImageCatalog catalog;

    public GarbageCollectionTests()
    {
        blobs = new BlobStore(temp.Combine("images"));
        catalog = new ImageCatalog(temp.Combine("images.db"));
    }

    public void Dispose()
    {
        catalog.Dispose();
        temp.Dispose();
    }

    Digest Layer(string text) => blobs.Put(Encoding.UTF8.GetBytes(text));

    /// <summary>Stores a config and a manifest for the layers and catalogues the image; returns (id, manifest digest).</summary>
    (Digest Id, Digest Manifest) StoreImage(string tag, Digest[] layers, string[]? extraRepoDigests = null)
    {
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"author":"{{tag}}"}""");
        var configDigest = blobs.Put(config);
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configDigest.ToString(), Size = config.Length },
            Layers = layers.Select(l => new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = l.ToString(), Size = blobs.SizeOf(l) ?? 0 }).ToList(),
        };
        var manifestDigest = blobs.Put(JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest));
        catalog.Put(new ImageRecord
        {
            Id = configDigest,
            ManifestDigest = manifestDigest,
            ManifestMediaType = MediaTypes.OciManifest,
            Size = 0,
            Created = DateTimeOffset.UnixEpoch,
            Stored = DateTimeOffset.UtcNow,
            Platform = "linux/amd64",
            Names = tag.Length > 0 ? [tag] : [],
            RepoDigests = [.. extraRepoDigests ?? []],
        });
        return (configDigest, manifestDigest);
    }

    long SizeOf(params Digest[] digests) => digests.Sum(d => blobs.SizeOf(d)!.Value);

    [Fact]
    public void UnreferencedBlobsGoAndSharedOnesStay()
    {
        var shared = Layer("shared base layer");
        var onlyA = Layer("layer only a has");
        var onlyB = Layer("layer only b has, a bit longer");
        var a = StoreImage("localhost/a:1", [shared, onlyA]);
        var b = StoreImage("localhost/b:1", [shared, onlyB]);
        var orphan = Layer("a blob nothing references");

        var dry = GarbageCollector.Collect(blobs, catalog, dryRun: true);
        Assert.True(dry.DryRun);
        Assert.Equal([orphan], dry.Removed.Select(r => r.Digest));
        Assert.Equal(SizeOf(orphan), dry.BytesFreed);
        Assert.True(blobs.Contains(orphan)); // a dry run removes nothing

        var first = GarbageCollector.Collect(blobs, catalog);
        Assert.Equal([orphan], first.Removed.Select(r => r.Digest));
        Assert.False(blobs.Contains(orphan));
        Assert.Equal(7, blobs.List().Count());

        catalog.Remove(a.Id);
        var expectedFreed = SizeOf(onlyA, a.Id, a.Manifest);
        var second = GarbageCollector.Collect(blobs, catalog);
        Assert.Equal(new HashSet<Digest> { onlyA, a.Id, a.Manifest }, second.Removed.Select(r => r.Digest).ToHashSet());
        Assert.Equal(expectedFreed, second.BytesFreed);
        foreach (var kept in (Digest[])[shared, onlyB, b.Id, b.Manifest])
            Assert.True(blobs.Contains(kept), $"{kept} is still used by image b");

        catalog.Remove(b.Id);
        GarbageCollector.Collect(blobs, catalog);
        Assert.Empty(blobs.List());
    }

    [Fact]
    public void AnIndexNamedByARepoDigestIsKeptWithItsImage()
    {
        var layer = Layer("layer");
        var (id, manifest) = StoreImage("", [layer]);
        var index = new ImageIndex
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciIndex,
            Manifests = [new Descriptor { MediaType = MediaTypes.OciManifest, Digest = manifest.ToString(), Size = blobs.SizeOf(manifest)!.Value }],
        };
        var indexDigest = blobs.Put(JsonSerializer.SerializeToUtf8Bytes(index, ImageJsonContext.Default.ImageIndex));
        catalog.Put(catalog.Get(id)! with { RepoDigests = [$"docker.io/library/multi@{indexDigest}"] });

        Assert.Empty(GarbageCollector.Collect(blobs, catalog).Removed);
        Assert.Equal(new HashSet<Digest> { id, manifest, layer, indexDigest }, ImageReferences.BlobsOf(blobs, catalog.Get(id)!));
    }

    [Fact]
    public void ACustomReferenceFunctionDecidesWhatIsKept()
    {
        var extra = Layer("kept by the caller's rule");
        var (id, _) = StoreImage("localhost/a:1", [Layer("l")]);
        var result = GarbageCollector.Collect(blobs, catalog, referencesOf: image => ImageReferences.BlobsOf(blobs, image).Append(extra));
        Assert.Empty(result.Removed);
        Assert.True(blobs.Contains(extra));
        Assert.True(blobs.Contains(id));
    }

    [Fact]
    public async Task CollectionWaitsForAWriterHoldingTheStore()
    {
        var orphan = Layer("pulled, not yet catalogued");
        var hold = blobs.HoldAgainstCollection();
        var collection = Task.Run(() => GarbageCollector.Collect(blobs, catalog));
        await Waits.AssertStillWaiting(collection, "collection must wait for the pull to catalogue its image");
        Assert.True(blobs.Contains(orphan));
        hold.Dispose();
        var result = await collection.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([orphan], result.Removed.Select(r => r.Digest));
    }

    [Fact]
    public void DiskUsageCountsSharedBlobsOnce()
    {
        var shared = Layer(new string('s', 1000));
        var onlyA = Layer(new string('a', 300));
        var onlyB = Layer(new string('b', 200));
        var onlyC = Layer(new string('c', 50));
        var a = StoreImage("localhost/a:1", [shared, onlyA]);
        var b = StoreImage("localhost/b:1", [shared, onlyB]);
        var c = StoreImage("", [shared, onlyC]); // dangling
        var orphan = Layer(new string('o', 70));
        catalog.AddUser(a.Id, "container-1");

        var report = DiskUsage.Compute(blobs, catalog);
        long Own((Digest Id, Digest Manifest) image, Digest layer) => SizeOf(image.Id, image.Manifest, layer);

        Assert.Equal(3, report.Images.Count);
        Assert.Equal(1, report.ActiveImages);
        Assert.Equal(SizeOf(shared) + Own(a, onlyA) + Own(b, onlyB) + Own(c, onlyC) + SizeOf(orphan), report.TotalBytes);
        Assert.Equal(report.TotalBytes - SizeOf(orphan), report.ImageBytes);
        Assert.Equal(SizeOf(orphan), report.UnreferencedBytes);
        // prune -a frees everything but what the used image a holds (the shared layer among it).
        Assert.Equal(report.TotalBytes - SizeOf(shared) - Own(a, onlyA), report.ReclaimableBytes);
        // prune frees the dangling image c's own blobs and the orphan; the shared layer stays for a and b.
        Assert.Equal(Own(c, onlyC) + SizeOf(orphan), report.DanglingReclaimableBytes);

        var usageA = report.Images.Single(u => u.Image.Id == a.Id);
        Assert.Equal(SizeOf(shared) + Own(a, onlyA), usageA.Size);
        Assert.Equal(SizeOf(shared), usageA.SharedSize);
        Assert.Equal(Own(a, onlyA), usageA.UniqueSize);
        Assert.Equal(1, usageA.Containers);
        Assert.Equal(0, report.Images.Single(u => u.Image.Id == b.Id).Containers);
        // The sum of the images' sizes counts the shared layer three times; the total counts it once.
        Assert.Equal(report.ImageBytes + 2 * SizeOf(shared), report.Images.Sum(u => u.Size));
    }

    [Fact]
    public void AnImageWhoseManifestIsMissingHoldsOnlyItsConfig()
    {
        var (id, manifest) = StoreImage("localhost/broken:1", [Layer("l")]);
        blobs.Delete(manifest);
        var result = GarbageCollector.Collect(blobs, catalog);
        Assert.Single(result.Removed); // the layer: nothing says it belongs to the image any more
        Assert.True(blobs.Contains(id));
    }
}
