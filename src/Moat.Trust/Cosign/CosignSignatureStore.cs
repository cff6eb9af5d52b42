using System.Text;
using System.Text.Json;
using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.Registries;

namespace Moat.Trust.Cosign;

/// <summary>One cosign signature: the payload blob, the base64 signature from its layer's annotation, and the layer itself.</summary>
public sealed record CosignSignature(byte[] Payload, string Base64Signature, Descriptor Layer);

/// <summary>
/// Where cosign keeps key-based signatures: an OCI image manifest tagged `sha256-HEX.sig` in the image's own
/// repository (or $COSIGN_REPOSITORY's), one layer per signature whose blob is the simple-signing payload
/// (media type application/vnd.dev.cosign.simplesigning.v1+json) and whose annotation
/// `dev.cosignproject.cosign/signature` holds the base64 ECDSA signature. A new signature is appended to the
/// layers already there; the same payload with the same signature is not added twice.
/// </summary>
public sealed class CosignSignatureStore(RegistryClient registry)
{
    public const string PayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";
    /// <summary>cosign's environment variable naming another repository for signatures.</summary>
    public const string RepositoryVariable = "COSIGN_REPOSITORY";

    /// <summary>`cosign triangulate`: the tag of the signatures of a manifest digest.</summary>
    public static string TagFor(Digest digest) => $"{digest.Algorithm}-{digest.Hex}.sig";

    /// <summary>The repository signatures go to: the image's, unless $COSIGN_REPOSITORY names another.</summary>
    public static RemoteRepository SignatureRepository(RemoteRepository image, RegistriesConfig registries)
    {
        var other = Environment.GetEnvironmentVariable(RepositoryVariable);
        if (string.IsNullOrEmpty(other)) return image;
        var reference = Moat.Images.References.ImageReference.Parse(other);
        return registries.PushTarget(reference);
    }

    /// <summary>The signatures stored for a digest; none (an empty list) when the tag does not exist.</summary>
    public async Task<IReadOnlyList<CosignSignature>> ReadAsync(RemoteRepository repository, Digest digest, CancellationToken cancellation = default)
    {
        var manifest = await GetSignatureManifestAsync(repository, digest, cancellation).ConfigureAwait(false);
        if (manifest is null) return [];
        var blobs = new MemoryBlobStore();
        var signatures = new List<CosignSignature>();
        foreach (var layer in manifest.Layers)
        {
            // Other attachments (attestations made into .sig by old tools, certificates) are not signatures.
            if (layer.MediaType != PayloadMediaType) continue;
            if (layer.Annotations?.GetValueOrDefault(SignatureAnnotation) is not { Length: > 0 } signature) continue;
            await registry.FetchBlobAsync(repository, layer, blobs, null, cancellation).ConfigureAwait(false);
            signatures.Add(new CosignSignature(blobs.ReadAll(layer.ParsedDigest), signature, layer));
        }
        return signatures;
    }

    async Task<ImageManifest?> GetSignatureManifestAsync(RemoteRepository repository, Digest digest, CancellationToken cancellation)
    {
        try
        {
            return (await registry.GetManifestAsync(repository, TagFor(digest), cancellation).ConfigureAwait(false)).ParseManifest();
        }
        catch (RegistryException e) when (e.Kind == RegistryErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Adds a signature to the digest's signature manifest (made when absent) and pushes it; returns false when the
    /// same payload and signature were already there.
    /// </summary>
    public async Task<bool> AppendAsync(RemoteRepository repository, Digest digest, byte[] payload, string base64Signature, CancellationToken cancellation = default)
    {
        var existing = await GetSignatureManifestAsync(repository, digest, cancellation).ConfigureAwait(false);
        var layers = existing?.Layers.ToList() ?? [];
        var payloadDigest = Digest.Sha256(payload);
        if (layers.Any(l => l.Digest == payloadDigest.ToString() && l.Annotations?.GetValueOrDefault(SignatureAnnotation) == base64Signature))
            return false;
        var layer = new Descriptor
        {
            MediaType = PayloadMediaType,
            Digest = payloadDigest.ToString(),
            Size = payload.Length,
            Annotations = new Dictionary<string, string> { [SignatureAnnotation] = base64Signature },
        };
        layers.Add(layer);
        await registry.UploadBlobAsync(repository, layer, () => new MemoryStream(payload, writable: false), null, cancellation).ConfigureAwait(false);

        var config = ConfigFor(layers);
        var configDescriptor = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Sha256(config).ToString(), Size = config.Length };
        await registry.UploadBlobAsync(repository, configDescriptor, () => new MemoryStream(config, writable: false), null, cancellation).ConfigureAwait(false);

        var manifest = new ImageManifest { SchemaVersion = 2, MediaType = MediaTypes.OciManifest, Config = configDescriptor, Layers = layers };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest);
        await registry.PutManifestAsync(repository, TagFor(digest), bytes, MediaTypes.OciManifest, cancellation).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// The image config cosign's signature images carry (go-containerregistry's empty image with the payload
    /// layers appended): zero times, no platform, one diff_id and one history entry per layer.
    /// </summary>
    static byte[] ConfigFor(IReadOnlyList<Descriptor> layers)
    {
        const string zeroTime = "0001-01-01T00:00:00Z";
        var json = new StringBuilder($"{{\"architecture\":\"\",\"created\":\"{zeroTime}\",\"history\":[");
        json.AppendJoin(',', layers.Select(_ => $"{{\"created\":\"{zeroTime}\"}}"));
        json.Append("],\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
        // The payload layers are not compressed: each diff_id is the blob's own digest.
        json.AppendJoin(',', layers.Select(l => $"\"{l.Digest}\""));
        json.Append("]},\"config\":{}}");
        return Encoding.UTF8.GetBytes(json.ToString());
    }
}
