using System.Security.Cryptography;
using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Registries;
using Moat.Trust.Signatures;

namespace Moat.Trust.Cosign;

/// <summary>An image in its registry as signing and verification see it: the digest the reference names now, and where signatures go.</summary>
public sealed record SignedSubject(ImageReference Reference, Digest Digest, RemoteRepository Repository, RemoteRepository SignatureRepository);

/// <summary>`moat sign` and `moat verify` with cosign keys, over the registry client.</summary>
public sealed class CosignOperations(RegistryClient registry, RegistriesConfig registries)
{
    readonly CosignSignatureStore store = new(registry);

    /// <summary>
    /// The digest the reference names (the top-level manifest or index, which is what cosign signs) and the
    /// repositories of the image and of its signatures.
    /// </summary>
    public async Task<SignedSubject> ResolveAsync(string text, CancellationToken cancellation = default)
    {
        var reference = ImageReference.Parse(text);
        if (reference.IsShortName)
            throw new InvalidReferenceException($"'{text}' names no registry: signatures need the image's full name, such as docker.io/{reference.ShortPath}");
        var manifest = await registry.GetManifestAsync(reference, cancellation).ConfigureAwait(false);
        var repository = registries.PushTarget(reference);
        return new SignedSubject(reference, manifest.Digest, repository, CosignSignatureStore.SignatureRepository(repository, registries));
    }

    /// <summary>Signs the subject's digest and appends the signature; returns the payload and whether it was new.</summary>
    public async Task<(byte[] Payload, bool Added)> SignAsync(SignedSubject subject, ECDsa key, IReadOnlyDictionary<string, string>? annotations, CancellationToken cancellation = default)
    {
        var payload = SimpleSigningPayload.CosignBytes(DockerReference.CosignName(subject.Reference), subject.Digest, annotations);
        var signature = Convert.ToBase64String(CosignKeys.Sign(key, payload));
        var added = await store.AppendAsync(subject.SignatureRepository, subject.Digest, payload, signature, cancellation).ConfigureAwait(false);
        return (payload, added);
    }

    /// <summary>
    /// Fetches and checks the subject's signatures: signed by one of the keys, for its digest, naming its
    /// repository (index.docker.io and docker.io are the same), and carrying the wanted annotations.
    /// </summary>
    public async Task<SignatureVerification> VerifyAsync(SignedSubject subject, IReadOnlyList<ECDsa> keys, IReadOnlyDictionary<string, string>? annotations, CancellationToken cancellation = default)
    {
        var signatures = await store.ReadAsync(subject.SignatureRepository, subject.Digest, cancellation).ConfigureAwait(false);
        return CosignVerifier.Verify(signatures, keys, subject.Digest, signed =>
        {
            var identity = DockerReference.TryParse(signed);
            if (identity is null) return $"its docker-reference \"{signed}\" is not a reference";
            if (identity.Name != subject.Reference.Name) return $"it names {signed}, not {subject.Reference.Name}";
            return null;
        }) is var result && annotations is { Count: > 0 } ? WithAnnotations(result, annotations) : result;
    }

    /// <summary>`-a key=value`: a verified signature counts only if its optional section has every pair.</summary>
    static SignatureVerification WithAnnotations(SignatureVerification result, IReadOnlyDictionary<string, string> annotations)
    {
        var kept = new List<VerifiedSignature>();
        var rejections = result.Rejections.ToList();
        foreach (var signature in result.Verified)
        {
            var missing = annotations.FirstOrDefault(a => signature.Payload.Optional?.GetValueOrDefault(a.Key) is not { ValueKind: System.Text.Json.JsonValueKind.String } value || value.GetString() != a.Value);
            if (missing.Key is null) kept.Add(signature);
            else rejections.Add($"a signature lacks the annotation {missing.Key}={missing.Value}");
        }
        return new SignatureVerification(kept, rejections, result.Found);
    }
}
