using Moat.Images.References;

namespace Moat.Trust.Signatures;

/// <summary>
/// A docker reference as signatures and policies write it, normalised as containers/image's
/// reference.ParseNormalizedNamed does (`busybox` is docker.io/library/busybox, index.docker.io is docker.io),
/// keeping what ImageReference fills in by default: whether a tag or digest was written at all.
/// </summary>
public sealed record DockerReference(string Name, string? Tag, string? Digest)
{
    /// <summary>Neither tag nor digest: a repository.</summary>
    public bool IsNameOnly => Tag is null && Digest is null;

    /// <summary>`name[:tag][@digest]`, the normalised form two references are compared in.</summary>
    public override string ToString() => Name + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    public static DockerReference? TryParse(string text)
    {
        if (!ImageReference.TryParse(text, out var parsed) || parsed is null) return null;
        var at = text.IndexOf('@');
        var named = at >= 0 ? text[..at] : text;
        var hasTag = named.LastIndexOf(':') > named.LastIndexOf('/');
        return new DockerReference(parsed.Name, hasTag ? parsed.Tag : null, parsed.Digest?.ToString());
    }

    public static DockerReference From(ImageReference reference) => new(reference.Name, reference.Tag, reference.Digest?.ToString());

    /// <summary>The name cosign writes in docker-reference: go-containerregistry calls Docker Hub index.docker.io.</summary>
    public static string CosignName(ImageReference reference) =>
        reference.Registry == ImageReference.DockerHub ? "index.docker.io/" + reference.Repository : reference.Name;
}
