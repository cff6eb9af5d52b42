using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Registries;
using Moat.Trust.Gpg;

namespace Moat.Trust.Policy;

/// <summary>
/// The trust policy as `moat pull` and the engine's `run` enforce it: the policy file (`--signature-policy`, the
/// user's, or the system's) with the registry client and the lookaside configuration. Without any policy file
/// every image is accepted, as before Moat had policies (podman refuses to pull then; see docs/supply-chain.md).
/// </summary>
public sealed class ImageTrust(TrustPolicy? policy, RegistryClient registry, RegistriesConfig registries, RegistriesDirectory lookaside)
{
    public TrustPolicy? Policy => policy;

    public static ImageTrust Load(RegistryClient registry, string? policyPath = null, string? registriesDirectory = null) =>
        new(TrustPolicy.FindFile(policyPath) is { } file ? TrustPolicy.Load(file) : null, registry, registry.Options.Registries, RegistriesDirectory.Load(registriesDirectory));

    /// <summary>
    /// What the engine calls before `run`: the image's name (as stored, fully qualified) and the digest of the
    /// manifest or index it was pulled by. Throws <see cref="TrustPolicyException"/> when the policy refuses it.
    /// </summary>
    public Task CheckAsync(string reference, Digest manifestDigest, CancellationToken cancellation = default)
    {
        var parsed = ImageReference.Parse(reference);
        return CheckAsync(parsed, manifestDigest, registries.PushTarget(parsed), cancellation);
    }

    public async Task CheckAsync(ImageReference reference, Digest manifestDigest, RemoteRepository source, CancellationToken cancellation = default)
    {
        if (policy is null) return;
        using var sources = new SignatureSources(registry, registries, lookaside);
        await policy.CheckAsync(new ImageToCheck(reference, manifestDigest, source), sources, cancellation).ConfigureAwait(false);
    }

    /// <summary>The pull hook: the resolved image is checked by the digest the reference named (the index when there is one).</summary>
    public Task CheckPullAsync(ResolvedImage resolved, CancellationToken cancellation) =>
        CheckAsync(resolved.Reference, (resolved.Index ?? resolved.Manifest).Digest, resolved.Source, cancellation);
}
