namespace Moat.Images.Registries;

/// <summary>A `[[registry]]` table: references under <see cref="Prefix"/> are pulled from <see cref="Location"/> (after its mirrors).</summary>
public sealed record RegistryEntry
{
    /// <summary>`host[/path]`, or `*.domain` matching every host under it.</summary>
    public required string Prefix { get; init; }
    /// <summary>`host[/path]` that replaces the prefix; the prefix itself when not set.</summary>
    public required string Location { get; init; }
    public bool Insecure { get; init; }
    public bool Blocked { get; init; }
    /// <summary>Mirrors serve only pulls by digest (a tag on a mirror may be stale).</summary>
    public bool MirrorByDigestOnly { get; init; }
    public IReadOnlyList<RegistryMirror> Mirrors { get; init; } = [];
    /// <summary>`FILE line N`, for errors that point at the entry.</summary>
    public string Origin { get; init; } = "";

    public bool IsWildcard => Prefix.StartsWith("*.", StringComparison.Ordinal);
}

/// <summary>A `[[registry.mirror]]` table.</summary>
public sealed record RegistryMirror(string Location, bool Insecure, MirrorUse Use = MirrorUse.All);

/// <summary>podman's `pull-from-mirror`: which pulls a mirror serves.</summary>
public enum MirrorUse { All, DigestOnly, TagOnly }
