namespace Moat.Audit.Bundle;

/// <summary>What the trust policy said about a container's image; the caller (the engine's `run`, `moat audit NAME`) asks it.</summary>
public enum ProvenanceStatus
{
    /// <summary>The policy required signatures and they verified.</summary>
    Verified,
    /// <summary>The policy lets the image in without a signature (insecureAcceptAnything for its scope).</summary>
    AcceptedUnsigned,
    /// <summary>No policy.json exists: nothing checks where images come from.</summary>
    NoPolicy,
    /// <summary>The policy refuses the image (wrong, missing or unverifiable signature).</summary>
    Refused,
    /// <summary>The question could not be asked (no registry name, the registry unreachable...): said, not hidden.</summary>
    NotChecked,
}

/// <summary>The image a config was made from and the trust policy's answer for it: the fact MOAT-A031 reads.</summary>
/// <param name="Image">The image's name as stored (`registry/repo:tag`).</param>
/// <param name="Digest">The digest checked.</param>
/// <param name="Detail">The policy file and scope, the refusal, or why it was not checked.</param>
public sealed record ImageProvenance(string Image, string? Digest, ProvenanceStatus Status, string Detail);
