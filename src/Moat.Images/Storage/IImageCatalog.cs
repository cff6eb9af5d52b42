using Moat.Images.Model;

namespace Moat.Images.Storage;

/// <summary>An image the store holds: its id is the config's digest, as docker and podman have it.</summary>
public sealed record ImageRecord
{
    public required Digest Id { get; init; }
    public required Digest ManifestDigest { get; init; }
    public required string ManifestMediaType { get; init; }
    /// <summary>Config plus compressed layers, as `docker images` reports the size.</summary>
    public required long Size { get; init; }
    /// <summary>The config's `created`, or when the image was stored if the config has none.</summary>
    public required DateTimeOffset Created { get; init; }
    public required DateTimeOffset Stored { get; init; }
    /// <summary>Fully qualified names with tags (`docker.io/library/busybox:latest`).</summary>
    public IReadOnlyList<string> Names { get; init; } = [];
    /// <summary>Fully qualified names with the manifest digest (`docker.io/library/busybox@sha256:...`).</summary>
    public IReadOnlyList<string> RepoDigests { get; init; } = [];
    /// <summary>`os/arch[/variant]`.</summary>
    public required string Platform { get; init; }

    /// <summary>The record of an image whose manifest and config are in hand (a pull, a load, an import), stored now.</summary>
    public static ImageRecord Create(Digest id, Digest manifestDigest, string manifestMediaType, ImageManifest manifest, ImageConfig config,
        IReadOnlyList<string> names, IReadOnlyList<string> repoDigests)
    {
        var now = DateTimeOffset.UtcNow;
        return new ImageRecord
        {
            Id = id,
            ManifestDigest = manifestDigest,
            ManifestMediaType = manifestMediaType,
            Size = manifest.Config.Size + manifest.Layers.Sum(l => l.Size),
            Created = config.Created ?? now,
            Stored = now,
            Names = names,
            RepoDigests = repoDigests,
            Platform = config.Variant is { Length: > 0 } v ? $"{config.Os}/{config.Architecture}/{v}" : $"{config.Os}/{config.Architecture}",
        };
    }
}

/// <summary>
/// The catalogue of images and their names, in SQLite (WAL, one transaction per change, so a crash leaves
/// the previous state or the next, never half). Names are unique: giving a name to an image takes it from
/// whichever image had it, and an image left without names is "dangling" (`&lt;none&gt;` in `moat images`).
/// </summary>
public interface IImageCatalog : IDisposable
{
    /// <summary>Adds or updates the image and attaches its names and repo digests (moving names as above).</summary>
    void Put(ImageRecord image);
    /// <summary>By full name (`registry/repo:tag`), by repo digest (`repo@sha256:..`), by id (`sha256:..`) or a unique id prefix (hex, at least 4).</summary>
    ImageRecord? Find(string nameOrId);
    ImageRecord? Get(Digest id);
    IReadOnlyList<ImageRecord> List();
    void Tag(Digest id, string fullName);
    /// <summary>Removes one name; false when no image had it.</summary>
    bool Untag(string fullName);
    /// <summary>Removes the image row and its names (its blobs are left to garbage collection).</summary>
    void Remove(Digest id);
    /// <summary>Containers that use an image: `rmi` refuses while any does, unless forced.</summary>
    void AddUser(Digest id, string containerId);
    void RemoveUser(string containerId);
    IReadOnlyList<string> UsersOf(Digest id);
}
