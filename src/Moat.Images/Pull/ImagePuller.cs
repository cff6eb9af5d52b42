using Moat.Oci;
using System.Text.Json;
using Moat.Images.Distribution;
using Moat.Images.Layers;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Snapshots;
using Moat.Images.Storage;

namespace Moat.Images.Pull;

/// <summary>
/// A pull: resolve the reference to one manifest for the platform, store the manifest (and index) bytes as
/// served, fetch the config, then fetch the layers in parallel, each unpacked into its snapshot as soon as it
/// has arrived and been verified, and finally record the image and its names in one catalogue transaction.
/// Blobs and snapshots that are already there are used as they are; a concurrent pull of the same image waits
/// on the same locks and finds the work done. Interrupted downloads resume where they stopped.
/// </summary>
public sealed class ImagePuller(RegistryClient registry, IBlobStore blobs, SnapshotStore snapshots, IImageCatalog catalog, UnpackOptions unpackOptions)
{
    /// <summary>Layers fetched at once: enough to fill a link, few enough not to thrash a small disk.</summary>
    public int Parallelism { get; init; } = 4;

    /// <summary>
    /// Run once the reference is resolved, before anything is stored: a trust policy (Moat.Trust) throws here
    /// to refuse the image, so a refused image leaves no blob, snapshot or name behind.
    /// </summary>
    public Func<ResolvedImage, CancellationToken, Task>? Verify { get; init; }

    public async Task<ImageRecord> PullAsync(ImageReference reference, PlatformSpec? platform, IPullProgress progress, CancellationToken cancellation = default)
    {
        progress.Message($"Trying to pull {reference.FullName}...");
        var resolved = await registry.ResolveAsync(reference, platform, cancellation).ConfigureAwait(false);
        if (Verify is not null)
            await Verify(resolved, cancellation).ConfigureAwait(false);
        if (resolved.Index is { } index)
            StoreVerified(index.Bytes, index.Digest);
        StoreVerified(resolved.Manifest.Bytes, resolved.Manifest.Digest);

        var manifest = resolved.Image;
        var configDigest = manifest.Config.ParsedDigest;
        await registry.FetchBlobAsync(resolved.Source, manifest.Config, blobs, null, cancellation).ConfigureAwait(false);
        var config = ParseConfig(blobs.ReadAll(configDigest), resolved.Reference);
        var diffIds = DiffIdsOf(config, manifest, resolved.Reference);
        var compressions = manifest.Layers.Select(l => CompressionOf(l, resolved.Reference)).ToArray();

        var chainIds = SnapshotStore.ChainIds(diffIds);

        using var gate = new SemaphoreSlim(Parallelism);
        var unpacked = new Task[manifest.Layers.Count];
        for (var i = 0; i < manifest.Layers.Count; i++)
        {
            var layer = i;
            var below = i == 0 ? Task.CompletedTask : unpacked[i - 1];
            unpacked[i] = Task.Run(() => PullLayerAsync(resolved, layer, diffIds, chainIds, compressions[layer], below, gate, progress, cancellation), cancellation);
        }
        await Task.WhenAll(unpacked).ConfigureAwait(false);
        snapshots.CompleteLayers(chainIds);

        var image = ImageRecord.Create(configDigest, resolved.Manifest.Digest, resolved.Manifest.MediaType, manifest, config,
            names: resolved.Reference.Digest is null ? [resolved.Reference.FullName] : [],
            repoDigests: [$"{resolved.Reference.Name}@{resolved.Manifest.Digest}"]);
        catalog.Put(image);
        progress.Message($"Digest: {resolved.Manifest.Digest}");
        return catalog.Get(image.Id) ?? image;
    }

    async Task PullLayerAsync(ResolvedImage resolved, int layer, IReadOnlyList<Digest> diffIds, IReadOnlyList<Digest> chainIds, LayerCompression compression,
        Task below, SemaphoreSlim gate, IPullProgress progress, CancellationToken cancellation)
    {
        var descriptor = resolved.Image.Layers[layer];
        var digest = descriptor.ParsedDigest;
        if (snapshots.Has(chainIds[layer]) && blobs.Contains(digest))
        {
            progress.BlobStatus(digest, "Already exists");
            await below.ConfigureAwait(false);
            return;
        }
        await gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            progress.BlobStarted(digest, descriptor.Size);
            var fetch = await registry.FetchBlobAsync(resolved.Source, descriptor, blobs, new Progress(progress, digest), cancellation).ConfigureAwait(false);
            progress.BlobStatus(digest, fetch.AlreadyPresent ? "Already exists" : "Download complete");
        }
        finally
        {
            gate.Release();
        }
        // A vfs snapshot is its parent's tree plus this layer: it must wait for the one below.
        if (snapshots.Driver == StorageDriver.Vfs)
            await below.ConfigureAwait(false);
        progress.BlobStatus(digest, "Extracting");
        snapshots.EnsureLayer(layer == 0 ? null : chainIds[layer - 1], diffIds[layer], durable: false, unpack: (directory, whiteouts) =>
            LayerUnpacker.Unpack(blobs.PathOf(digest), compression, directory, unpackOptions with { Whiteouts = whiteouts }));
        await below.ConfigureAwait(false);
        progress.BlobStatus(digest, "Pull complete");
    }

    void StoreVerified(byte[] bytes, Digest digest)
    {
        var stored = blobs.Put(bytes);
        if (digest.Algorithm == "sha256" && stored != digest)
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"a manifest was served as {digest} but its bytes hash to {stored}");
    }

    static ImageConfig ParseConfig(byte[] bytes, ImageReference reference)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ImageConfig)
                ?? throw new RegistryException(RegistryErrorKind.Protocol, $"the config of {reference.FullName} is null");
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"the config of {reference.FullName} is not an image configuration ({ErrorText.Reason(e)})", e);
        }
    }

    /// <summary>The config's diff_ids, one per layer of the manifest: a mismatch means the image is broken, said before any layer is fetched.</summary>
    static IReadOnlyList<Digest> DiffIdsOf(ImageConfig config, ImageManifest manifest, ImageReference reference)
    {
        if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
            throw new RegistryException(RegistryErrorKind.Protocol,
                $"{reference.FullName} is inconsistent: its manifest has {manifest.Layers.Count} layers and its config {config.RootFs.DiffIds.Count} diff_ids");
        return config.RootFs.DiffIds.Select(text => Digest.TryParse(text, out var d) ? d
            : throw new RegistryException(RegistryErrorKind.Protocol, $"the config of {reference.FullName} has diff_id '{text}', which is not a digest")).ToList();
    }

    static LayerCompression CompressionOf(Descriptor layer, ImageReference reference)
    {
        try { return MediaTypes.LayerCompressionOf(layer.MediaType); }
        catch (NotSupportedException e) { throw new RegistryException(RegistryErrorKind.Protocol, $"{reference.FullName}: {ErrorText.Reason(e)}", e); }
    }

    sealed class Progress(IPullProgress progress, Digest digest) : IProgress<long>
    {
        public void Report(long value) => progress.BlobProgress(digest, value);
    }
}
