using System.Security.Cryptography;
using Moat.Images.Model;
using Moat.Trust.Signatures;

namespace Moat.Trust.Cosign;

/// <summary>A signature that passed: its payload as signed, parsed.</summary>
public sealed record VerifiedSignature(SimpleSigningPayload Payload, byte[] PayloadBytes);

/// <summary>What verifying the signatures of one digest found: those that passed, and why each other one did not.</summary>
public sealed record SignatureVerification(IReadOnlyList<VerifiedSignature> Verified, IReadOnlyList<string> Rejections, int Found)
{
    /// <summary>One sentence for an error: how many signatures there were and why none passed.</summary>
    public string Explain() => Found == 0
        ? "the image has no signatures"
        : $"none of its {Found} signature{(Found == 1 ? "" : "s")} passed ({string.Join("; ", Rejections)})";
}

/// <summary>
/// cosign's key-based checks (cosign verify --key): the ECDSA signature over the payload with one of the keys,
/// the payload's type, its docker-manifest-digest against the image's digest, and its docker-reference
/// through <paramref name="checkIdentity"/> (null when accepted, else why not).
/// </summary>
public static class CosignVerifier
{
    public static SignatureVerification Verify(IReadOnlyList<CosignSignature> signatures, IReadOnlyList<ECDsa> keys, Digest manifestDigest,
        Func<string, string?> checkIdentity)
    {
        var verified = new List<VerifiedSignature>();
        var rejections = new List<string>();
        for (var i = 0; i < signatures.Count; i++)
        {
            var reason = Check(signatures[i], keys, manifestDigest, checkIdentity, out var payload);
            if (reason is null) verified.Add(new VerifiedSignature(payload!, signatures[i].Payload));
            else rejections.Add($"signature {i + 1}: {reason}");
        }
        return new SignatureVerification(verified, rejections, signatures.Count);
    }

    static string? Check(CosignSignature signature, IReadOnlyList<ECDsa> keys, Digest manifestDigest, Func<string, string?> checkIdentity, out SimpleSigningPayload? payload)
    {
        payload = null;
        byte[] raw;
        try { raw = Convert.FromBase64String(signature.Base64Signature); }
        catch (FormatException) { return "its signature annotation is not base64"; }
        if (!keys.Any(key => CosignKeys.Verify(key, signature.Payload, raw)))
            return keys.Count == 1 ? "it was not made by the given key (or its payload was changed)" : $"it was made by none of the {keys.Count} keys";
        payload = SimpleSigningPayload.TryParse(signature.Payload, out var why);
        if (payload is null) return $"its payload is not a simple-signing payload: {why}";
        if (payload.Type != SimpleSigningPayload.CosignType)
            return $"its payload has type \"{payload.Type}\", not \"{SimpleSigningPayload.CosignType}\"";
        if (!Digest.TryParse(payload.ManifestDigest, out var signedDigest) || signedDigest != manifestDigest)
            return $"it signs manifest {payload.ManifestDigest}, not {manifestDigest}";
        return checkIdentity(payload.DockerReference);
    }
}
