using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Registries;
using Moat.Trust.Cosign;
using Moat.Trust.Gpg;

namespace Moat.Trust.Policy;

/// <summary>
/// The image a policy is asked about: its logical name (what scopes and signed identities are matched against),
/// the digest of its top-level manifest or index (what signatures sign), and the repository it is served from.
/// </summary>
public sealed record ImageToCheck(ImageReference Reference, Digest ManifestDigest, RemoteRepository Source);

/// <summary>Fetches an image's signatures once per check, whichever requirements ask for them: cosign's from the registry, GPG's from lookaside storage.</summary>
public sealed class SignatureSources(RegistryClient registry, RegistriesConfig registries, RegistriesDirectory lookaside) : IDisposable
{
    readonly CosignSignatureStore cosign = new(registry);
    readonly LookasideReader reader = new();
    Task<IReadOnlyList<CosignSignature>>? cosignSignatures;
    Task<(Uri, IReadOnlyList<byte[]>)>? gpgSignatures;
    ImageToCheck? fetchedFor;

    public Task<IReadOnlyList<CosignSignature>> CosignAsync(ImageToCheck image, CancellationToken cancellation)
    {
        Reset(image);
        return cosignSignatures ??= cosign.ReadAsync(CosignSignatureStore.SignatureRepository(image.Source, registries), image.ManifestDigest, cancellation);
    }

    public Task<(Uri Location, IReadOnlyList<byte[]> Signatures)> GpgAsync(ImageToCheck image, CancellationToken cancellation)
    {
        Reset(image);
        return gpgSignatures ??= Read(image, cancellation);
    }

    async Task<(Uri, IReadOnlyList<byte[]>)> Read(ImageToCheck image, CancellationToken cancellation)
    {
        var location = lookaside.LookasideFor(image.Source.Registry, image.Source.Repository);
        return (location, await reader.ReadAsync(location, image.ManifestDigest, cancellation).ConfigureAwait(false));
    }

    void Reset(ImageToCheck image)
    {
        if (fetchedFor == image) return;
        fetchedFor = image;
        cosignSignatures = null;
        gpgSignatures = null;
    }

    public void Dispose() => reader.Dispose();
}
