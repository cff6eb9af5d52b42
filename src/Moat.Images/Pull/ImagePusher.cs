using System.Text.Json;
using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Storage;

namespace Moat.Images.Pull;

/// <summary>
/// A push: every blob of the image (config and layers) that the destination lacks is uploaded, in parallel,
/// then the manifest's exact bytes are put under the tag, so the destination's digest equals ours.
/// </summary>
public sealed class ImagePusher(RegistryClient registry, IBlobStore blobs)
{
    public int Parallelism { get; init; } = 4;

    public async Task<Digest> PushAsync(ImageRecord image, ImageReference destination, IPullProgress progress, CancellationToken cancellation = default)
    {
        var target = registry.Options.Registries.PushTarget(destination);
        var manifestBytes = blobs.ReadAll(image.ManifestDigest);
        var manifest = JsonSerializer.Deserialize(manifestBytes, ImageJsonContext.Default.ImageManifest)
            ?? throw new InvalidOperationException($"the stored manifest {image.ManifestDigest} is empty");
        progress.Message($"Pushing {destination.FullName}");
        using var gate = new SemaphoreSlim(Parallelism);
        var uploads = manifest.Layers.Append(manifest.Config).Select(async descriptor =>
        {
            var digest = descriptor.ParsedDigest;
            if (!blobs.Contains(digest))
                throw new InvalidOperationException($"blob {digest} of {image.Id} is not in the store (a loaded or committed image missing its layers?); pull the image again");
            await gate.WaitAsync(cancellation).ConfigureAwait(false);
            try
            {
                progress.BlobStarted(digest, descriptor.Size);
                if (await registry.BlobExistsAsync(target, digest, forPush: true, cancellation).ConfigureAwait(false))
                {
                    progress.BlobStatus(digest, "Layer already exists");
                    return;
                }
                await registry.UploadBlobAsync(target, descriptor, blobs, new Progress(progress, digest), cancellation).ConfigureAwait(false);
                progress.BlobStatus(digest, "Pushed");
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        await Task.WhenAll(uploads).ConfigureAwait(false);
        var digest = await registry.PutManifestAsync(target, destination.TagOrDigest, manifestBytes, image.ManifestMediaType, cancellation).ConfigureAwait(false);
        progress.Message($"{destination.Tag ?? ImageReference.DefaultTag}: digest: {digest} size: {manifestBytes.Length}");
        return digest;
    }

    sealed class Progress(IPullProgress progress, Digest digest) : IProgress<long>
    {
        public void Report(long value) => progress.BlobProgress(digest, value);
    }
}
