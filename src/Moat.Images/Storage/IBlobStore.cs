using Moat.Images.Model;

namespace Moat.Images.Storage;

/// <summary>
/// Content-addressed blobs, laid out as an OCI image layout (`blobs/&lt;algorithm&gt;/&lt;hex&gt;`, `oci-layout`).
/// A blob is visible only once complete and verified: writes go through an ingest that checks the digest
/// and size before an atomic rename, so a crash or a lying registry never leaves a wrong blob behind.
/// </summary>
public interface IBlobStore
{
    /// <summary>The layout's directory (the one holding `oci-layout` and `blobs/`).</summary>
    string Root { get; }
    bool Contains(Digest digest);
    /// <summary>The blob's size, or null when absent.</summary>
    long? SizeOf(Digest digest);
    /// <summary>The committed blob's path (for overlay-free readers such as archives).</summary>
    string PathOf(Digest digest);
    /// <summary>Opens a committed blob for reading; a clear error names the digest when absent.</summary>
    Stream Open(Digest digest);
    byte[] ReadAll(Digest digest);
    /// <summary>Stores small content (manifests, configs) verbatim and returns its sha256 digest.</summary>
    Digest Put(ReadOnlySpan<byte> content);
    /// <summary>
    /// Starts (or resumes) writing a blob. Holds an exclusive lock on the digest for as long as the ingest
    /// lives, so a second writer of the same blob, in this process or another, waits and then finds it
    /// committed (<see cref="BlobIngest.AlreadyPresent"/>): concurrent pulls share one download.
    /// </summary>
    BlobIngest BeginIngest(Digest expected, long expectedSize, CancellationToken cancellation = default);
    /// <summary>Removes a blob (garbage collection); absent blobs are not an error.</summary>
    void Delete(Digest digest);
    /// <summary>Every committed blob with its size.</summary>
    IEnumerable<(Digest Digest, long Size)> List();
}

/// <summary>A blob being written. Dispose without <see cref="Commit"/> keeps the partial bytes for a later resume.</summary>
public abstract class BlobIngest : IDisposable
{
    /// <summary>The blob was committed by someone else while this ingest waited for the lock: nothing to write.</summary>
    public abstract bool AlreadyPresent { get; }
    /// <summary>Bytes already on disk from an earlier, interrupted attempt: a download resumes here (HTTP Range).</summary>
    public abstract long Offset { get; }
    /// <summary>Appends at <see cref="Offset"/>; the ingest hashes what is written.</summary>
    public abstract Stream Stream { get; }
    /// <summary>Drops the partial bytes (a resume that the server refused, or content that failed verification).</summary>
    public abstract void Restart();
    /// <summary>Verifies size and digest of everything written, then renames the blob into place; throws on mismatch and discards the bytes.</summary>
    public abstract void Commit();
    public abstract void Dispose();
}
