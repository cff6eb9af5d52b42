using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Trust.Cosign;

/// <summary>
/// A blob store in memory for the few small blobs a signature is made of (payloads): the registry client
/// downloads into it, and its ingest verifies size and digest on commit as the disk store's does.
/// </summary>
sealed class MemoryBlobStore : IBlobStore
{
    readonly Dictionary<Digest, byte[]> blobs = [];

    public string Root => "(memory)";
    public bool Contains(Digest digest) { lock (blobs) return blobs.ContainsKey(digest); }
    public long? SizeOf(Digest digest) { lock (blobs) return blobs.TryGetValue(digest, out var b) ? b.Length : null; }
    public string PathOf(Digest digest) => throw new NotSupportedException("blobs in memory have no path");
    public Stream Open(Digest digest) => new MemoryStream(ReadAll(digest), writable: false);
    public byte[] ReadAll(Digest digest) { lock (blobs) return blobs.TryGetValue(digest, out var b) ? b : throw new KeyNotFoundException($"blob {digest} was not fetched"); }
    public Digest Put(ReadOnlySpan<byte> content)
    {
        var digest = Digest.Sha256(content);
        lock (blobs) blobs[digest] = content.ToArray();
        return digest;
    }
    public BlobIngest BeginIngest(Digest expected, long expectedSize, CancellationToken cancellation = default) => new Ingest(this, expected, expectedSize);
    public void Delete(Digest digest) { lock (blobs) blobs.Remove(digest); }
    public IEnumerable<(Digest Digest, long Size)> List() { lock (blobs) return blobs.Select(b => (b.Key, (long)b.Value.Length)).ToList(); }

    sealed class Ingest(MemoryBlobStore store, Digest expected, long expectedSize) : BlobIngest
    {
        // Signature payloads are small; a registry that sends more than this is refused.
        const long Limit = 4 << 20;
        readonly MemoryStream stream = new();

        public override bool AlreadyPresent => store.Contains(expected);
        public override long Offset => stream.Length;
        public override Stream Stream => expectedSize > Limit ? throw new InvalidDataException($"blob {expected} is {expectedSize} bytes, too large for a signature") : stream;
        public override void Restart() => stream.SetLength(0);
        public override void Commit()
        {
            var bytes = stream.ToArray();
            if (bytes.LongLength != expectedSize)
                throw new InvalidDataException($"blob {expected} arrived with {bytes.LongLength} bytes, not {expectedSize}");
            var actual = expected.Algorithm == "sha512" ? Digest.FromHash("sha512", System.Security.Cryptography.SHA512.HashData(bytes)) : Digest.Sha256(bytes);
            if (actual != expected)
                throw new InvalidDataException($"blob {expected} arrived with content of digest {actual}");
            lock (store.blobs) store.blobs[expected] = bytes;
        }
        public override void Dispose() => stream.Dispose();
    }
}
