using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.References;

namespace Moat.Trust.Policy;

/// <summary>How the trust policy let an image through: no policy file, accepted without a signature (insecureAcceptAnything), or signatures verified.</summary>
public enum TrustOutcome
{
    NoPolicy,
    AcceptedUnsigned,
    Verified,
}

/// <summary>The policy's answer for an image the store holds: the outcome, the policy file and the scope that decided, the digest checked.</summary>
public sealed record TrustVerdict(TrustOutcome Outcome, string? PolicyFile, string? Scope, string Digest);

public static class StoredImageTrust
{
    /// <summary>
    /// The trust policy for an image already in the store (what `run` checks before it creates a container, and
    /// `moat audit NAME` reports). <paramref name="digest"/> is the digest the engine kept (the one the image was
    /// pulled by when known); <paramref name="manifestDigest"/> the stored platform manifest's. Signatures are
    /// made for the digest a reference names, which is an index for a multi-platform image, while the store keeps
    /// the platform manifest: when the check fails with <paramref name="digest"/> equal to the platform manifest
    /// and <paramref name="pulledNow"/> false, the registry is asked what the name points to now and, when that is
    /// an index holding this very manifest, the check is made again with the index's digest.
    /// Throws <see cref="TrustPolicyException"/> when the policy refuses the image.
    /// </summary>
    public static async Task<TrustVerdict> CheckAsync(ImageTrust trust, RegistryClient registry, string name, string digest, Digest manifestDigest,
        string? platform, bool pulledNow, CancellationToken cancellation = default)
    {
        if (trust.Policy is not { } policy)
            return new TrustVerdict(TrustOutcome.NoPolicy, null, null, digest);
        var reference = ImageReference.Parse(name);
        var (scope, requirements) = policy.Select(reference);
        var signed = requirements.Any(r => r is PolicyRequirement.SignedBy or PolicyRequirement.SigstoreSigned);
        try
        {
            await trust.CheckAsync(name, Digest.Parse(digest), cancellation).ConfigureAwait(false);
        }
        catch (TrustPolicyException refusal) when (signed && !pulledNow && digest == manifestDigest.ToString() && reference.Digest is null)
        {
            ResolvedImage? resolved = null;
            try
            {
                resolved = await registry.ResolveAsync(reference, platform is { Length: > 0 } p ? PlatformSpec.Parse(p) : null, cancellation).ConfigureAwait(false);
            }
            catch (RegistryException)
            {
                // The registry cannot say which index holds the image: the refusal stands as it was.
            }
            if (resolved?.Index is not { } index || resolved.Manifest.Digest != manifestDigest)
                throw new TrustPolicyException(refusal.Message, refusal.PolicyFile, refusal.Scope, refusal.Requirement);
            await trust.CheckAsync(name, index.Digest, cancellation).ConfigureAwait(false);
            digest = index.Digest.ToString();
        }
        return new TrustVerdict(signed ? TrustOutcome.Verified : TrustOutcome.AcceptedUnsigned, policy.Source, scope, digest);
    }
}
