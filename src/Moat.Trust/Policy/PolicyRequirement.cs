using System.Security.Cryptography;
using Moat.Trust.Cosign;
using Moat.Trust.Gpg;
using Moat.Trust.Signatures;

namespace Moat.Trust.Policy;

/// <summary>One requirement of a policy scope (containers-policy.json(5)); every requirement of the chosen scope must be met.</summary>
public abstract record PolicyRequirement
{
    public abstract string Type { get; }

    /// <summary>Null when the image meets the requirement, else why not.</summary>
    public abstract Task<string?> EvaluateAsync(ImageToCheck image, SignatureSources sources, CancellationToken cancellation);

    public sealed record InsecureAcceptAnything : PolicyRequirement
    {
        public override string Type => "insecureAcceptAnything";
        public override Task<string?> EvaluateAsync(ImageToCheck image, SignatureSources sources, CancellationToken cancellation) => Task.FromResult<string?>(null);
    }

    public sealed record Reject : PolicyRequirement
    {
        public override string Type => "reject";
        public override Task<string?> EvaluateAsync(ImageToCheck image, SignatureSources sources, CancellationToken cancellation) =>
            Task.FromResult<string?>("the policy rejects every image here");
    }

    /// <summary>`signedBy` with keyType GPGKeys: a simple-signing signature from lookaside storage, checked by gpgv with these keys.</summary>
    public sealed record SignedBy(IReadOnlyList<byte[]> Keys, string KeySource, SignedIdentity Identity) : PolicyRequirement
    {
        public override string Type => "signedBy";

        public override async Task<string?> EvaluateAsync(ImageToCheck image, SignatureSources sources, CancellationToken cancellation)
        {
            var (location, signatures) = await sources.GpgAsync(image, cancellation).ConfigureAwait(false);
            if (signatures.Count == 0) return $"it has no GPG signatures (looked in {location})";
            using var gpg = new GpgVerifier(Keys);
            var reasons = new List<string>();
            for (var i = 0; i < signatures.Count; i++)
            {
                var why = Check(gpg.Verify(signatures[i]), image);
                if (why is null) return null;
                reasons.Add($"signature {i + 1}: {why}");
            }
            return $"none of its {signatures.Count} GPG signature{(signatures.Count == 1 ? "" : "s")} is accepted with {KeySource} ({string.Join("; ", reasons)})";
        }

        string? Check(GpgVerifier.Result result, ImageToCheck image)
        {
            if (result.Content is null) return result.Failure;
            var payload = SimpleSigningPayload.TryParse(result.Content, out var why);
            if (payload is null) return $"its content is not a simple-signing payload: {why}";
            if (payload.Type != SimpleSigningPayload.AtomicType) return $"its type is \"{payload.Type}\", not \"{SimpleSigningPayload.AtomicType}\"";
            if (payload.ManifestDigest != image.ManifestDigest.ToString()) return $"it signs manifest {payload.ManifestDigest}, not {image.ManifestDigest}";
            return Identity.Check(DockerReference.From(image.Reference), payload.DockerReference);
        }
    }

    /// <summary>`sigstoreSigned` with public keys: cosign's key-based signatures from the `.sig` tag.</summary>
    public sealed record SigstoreSigned(IReadOnlyList<string> PublicKeysPem, string KeySource, SignedIdentity Identity) : PolicyRequirement
    {
        public override string Type => "sigstoreSigned";

        public override async Task<string?> EvaluateAsync(ImageToCheck image, SignatureSources sources, CancellationToken cancellation)
        {
            var signatures = await sources.CosignAsync(image, cancellation).ConfigureAwait(false);
            var keys = PublicKeysPem.Select(pem => CosignKeys.ParsePublicKey(pem, KeySource)).ToList();
            try
            {
                var result = CosignVerifier.Verify(signatures, keys, image.ManifestDigest, signed => Identity.Check(DockerReference.From(image.Reference), signed));
                return result.Verified.Count > 0 ? null : $"{result.Explain()} with {KeySource}";
            }
            finally
            {
                foreach (var key in keys) key.Dispose();
            }
        }
    }
}
