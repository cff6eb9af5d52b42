using Moat.Images.Model;

namespace Moat.Images.Archives;

/// <summary>
/// An image found in (or made from) an archive, its blobs already in the store: the manifest's exact
/// bytes and digest, its config's digest, and the names the archive gives it (as written there:
/// `busybox:latest` in a docker-archive, the ref.name annotation in an oci-archive; the engine qualifies them).
/// </summary>
public sealed record ArchivedImage(Digest ManifestDigest, string ManifestMediaType, byte[] Manifest, Digest ConfigDigest, IReadOnlyList<string> Names);

/// <summary>An image to write into an archive: its manifest in the store, and the names to give it there.</summary>
public sealed record ArchiveSource(Digest ManifestDigest, IReadOnlyList<string> Names);
