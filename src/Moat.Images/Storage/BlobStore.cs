using System.Text;
using Moat.Images.Model;
using Moat.Interop;

namespace Moat.Images.Storage;

/// <summary>
/// The blob store as an OCI image layout directory: `oci-layout`, `index.json` (empty: the catalogue, not
/// the layout's index, names images), `blobs/&lt;algorithm&gt;/&lt;hex&gt;` (read-only once committed), and
/// `ingest/` for blobs being written (`&lt;algorithm&gt;-&lt;hex&gt;.partial` beside a `.lock` file).
/// </summary>
public sealed class BlobStore : IBlobStore
{
    public const string LayoutFile = "oci-layout", IndexFile = "index.json", BlobsDirectory = "blobs", IngestDirectory = "ingest";
    const string LayoutContent = """{"imageLayoutVersion":"1.0.0"}""";
    const string EmptyIndexContent = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""";
    const string CollectionLockFile = "collection.lock";
    const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public string Root { get; }
    internal string IngestRoot { get; }

    /// <summary>Opens the layout at <paramref name="root"/>, creating it (0700) when absent.</summary>
    public BlobStore(string root)
    {
        Root = Path.GetFullPath(root);
        IngestRoot = Path.Combine(Root, IngestDirectory);
        Directory.CreateDirectory(Root, DirectoryMode);
        foreach (var algorithm in (string[])["sha256", "sha512"])
            Directory.CreateDirectory(Path.Combine(Root, BlobsDirectory, algorithm), DirectoryMode);
        Directory.CreateDirectory(IngestRoot, DirectoryMode);
        var layout = Path.Combine(Root, LayoutFile);
        if (Libc.TryReadText(layout) is { } existing)
        {
            if (!existing.Contains("\"imageLayoutVersion\"", StringComparison.Ordinal))
                throw new StorageException($"{layout} is not an OCI image layout marker (it has no imageLayoutVersion): is {Root} the image store?");
        }
        else
            AtomicFile.Write(layout, Encoding.UTF8.GetBytes(LayoutContent));
        if (!File.Exists(Path.Combine(Root, IndexFile)))
            AtomicFile.Write(Path.Combine(Root, IndexFile), Encoding.UTF8.GetBytes(EmptyIndexContent));
    }

    public string PathOf(Digest digest)
    {
        Check(digest);
        return Path.Combine(Root, BlobsDirectory, digest.Algorithm, digest.Hex);
    }

    public bool Contains(Digest digest) => File.Exists(PathOf(digest));

    public long? SizeOf(Digest digest)
    {
        var info = new FileInfo(PathOf(digest));
        return info.Exists ? info.Length : null;
    }

    public Stream Open(Digest digest)
    {
        var path = PathOf(digest);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (FileNotFoundException)
        {
            throw new BlobNotFoundException(digest, path);
        }
    }

    public byte[] ReadAll(Digest digest)
    {
        var path = PathOf(digest);
        return Libc.TryReadFile(path) ?? throw new BlobNotFoundException(digest, path);
    }

    public Digest Put(ReadOnlySpan<byte> content)
    {
        var digest = Digest.Sha256(content);
        if (Contains(digest))
            return digest;
        using var ingest = BeginIngest(digest, content.Length);
        if (ingest.AlreadyPresent)
            return digest;
        if (ingest.Offset != 0)
            ingest.Restart();
        ingest.Stream.Write(content);
        ingest.Commit();
        return digest;
    }

    /// <summary>
    /// A negative <paramref name="expectedSize"/> means the size is not known beforehand (a manifest
    /// fetched by tag): only the digest is verified then.
    /// </summary>
    public BlobIngest BeginIngest(Digest expected, long expectedSize, CancellationToken cancellation = default)
    {
        Check(expected);
        // A committed blob needs no lock: the lock orders writers, and there is nothing left to write.
        if (SizeOf(expected) is { } present)
            return new PresentBlobIngest(present);
        var name = $"{expected.Algorithm}-{expected.Hex}";
        var fileLock = FileLock.Acquire(Path.Combine(IngestRoot, name + ".lock"), exclusive: true, cancellation);
        try
        {
            var target = PathOf(expected);
            if (File.Exists(target))
            {
                // Committed by whoever held the lock before us: nothing to write, nobody to keep waiting,
                // and no lock file to leave behind (this waiter may have created a new one).
                var size = new FileInfo(target).Length;
                fileLock.RemoveFile();
                fileLock.Dispose();
                return new PresentBlobIngest(size);
            }
            return new FileBlobIngest(expected, expectedSize, Path.Combine(IngestRoot, name + ".partial"), target, fileLock);
        }
        catch
        {
            fileLock.Dispose();
            throw;
        }
    }

    public void Delete(Digest digest)
    {
        try
        {
            File.Delete(PathOf(digest));
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    public IEnumerable<(Digest Digest, long Size)> List()
    {
        foreach (var algorithmDirectory in new DirectoryInfo(Path.Combine(Root, BlobsDirectory)).EnumerateDirectories())
            foreach (var file in algorithmDirectory.EnumerateFiles())
                // Anything not named by a digest (an editor's backup, a stray temp file) is not a blob.
                if (Digest.TryParse($"{algorithmDirectory.Name}:{file.Name}", out var digest))
                    yield return (digest, file.Length);
    }

    /// <summary>
    /// Keeps garbage collection away while held (a shared lock, so any number of writers hold it at once).
    /// A pull holds it from its first blob until the catalogue names the image: until then its blobs are
    /// referenced by nothing and a collection running meanwhile would take them.
    /// </summary>
    public IDisposable HoldAgainstCollection(CancellationToken cancellation = default) =>
        FileLock.Acquire(Path.Combine(IngestRoot, CollectionLockFile), exclusive: false, cancellation);

    /// <summary>The exclusive side of <see cref="HoldAgainstCollection"/>: waits for running writers to finish.</summary>
    internal IDisposable LockForCollection(CancellationToken cancellation = default) =>
        FileLock.Acquire(Path.Combine(IngestRoot, CollectionLockFile), exclusive: true, cancellation);

    /// <summary>
    /// Removes partial blobs that nobody is writing and that were last written longer ago than
    /// <paramref name="minimumAge"/> (an abandoned pull); returns the bytes freed.
    /// </summary>
    public long PruneIngests(TimeSpan minimumAge)
    {
        long freed = 0;
        foreach (var partial in new DirectoryInfo(IngestRoot).EnumerateFiles("*.partial"))
        {
            if (DateTime.UtcNow - partial.LastWriteTimeUtc < minimumAge)
                continue;
            var lockPath = Path.ChangeExtension(partial.FullName, ".lock");
            using var held = FileLock.TryAcquire(lockPath, exclusive: true);
            if (held is null)
                continue;
            partial.Refresh();
            if (!partial.Exists)
            {
                held.RemoveFile();
                continue;
            }
            var length = partial.Length;
            partial.Delete();
            held.RemoveFile();
            freed += length;
        }
        return freed;
    }

    internal static void SyncDirectory(string directory)
    {
        using var fd = Libc.Open(directory, Libc.O_RDONLY | Libc.O_DIRECTORY);
        Errors.Check(Libc.fsync(fd.Fd), "fsync", directory);
    }

    static void Check(Digest digest)
    {
        if (digest.IsEmpty)
            throw new ArgumentException("a blob needs a digest, and this one is empty", nameof(digest));
    }

    /// <summary>The ingest of a blob that was already committed: nothing to write.</summary>
    sealed class PresentBlobIngest(long size) : BlobIngest
    {
        public override bool AlreadyPresent => true;
        public override long Offset => size;
        public override Stream Stream => throw new InvalidOperationException("the blob is already in the store: there is nothing to write");
        public override void Restart() { }
        public override void Commit() { }
        public override void Dispose() { }
    }
}
