namespace Moat.Images.Registries;

/// <summary>
/// One place to talk to about a repository: the registry host (`host[:port]` as the HTTP API sees it),
/// the repository path there, and whether TLS may be unverified or skipped (registries.conf `insecure`).
/// A mirror rewrites both host and path, so a pull source is this, not an image reference.
/// </summary>
public sealed record RemoteRepository(string Registry, string Repository, bool Insecure = false, bool IsMirror = false)
{
    public override string ToString() => $"{Registry}/{Repository}";
}
