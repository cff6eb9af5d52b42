using System.Security.Cryptography;
using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Tests.Images.Archives;

/// <summary>
/// A small IBlobStore over a temporary OCI layout, for the archive tests while the real store is built
/// elsewhere. It verifies digest and size on commit like the real one, so a test can see a lie refused.
/// </summary>
internal sealed class TestBlobStore : IBlobStore, IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("moat-archive-store-").FullName;

    public TestBlobStore()
    {
        Directory.CreateDirectory(Path.Combine(Root, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(Root, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    }

    public string PathOf(Digest digest) => Path.Combine(Root, "blobs", digest.Algorithm, digest.Hex);
    public bool Contains(Digest digest) => File.Exists(PathOf(digest));
    public long? SizeOf(Digest digest) => Contains(digest) ? new FileInfo(PathOf(digest)).Length : null;
    public Stream Open(Digest digest) => Contains(digest) ? File.OpenRead(PathOf(digest)) : throw new FileNotFoundException($"blob {digest} is not in the store");
    public byte[] ReadAll(Digest digest) => File.ReadAllBytes(PathOf(digest));

    public Digest Put(ReadOnlySpan<byte> content)
    {
        var digest = Digest.Sha256(content);
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(digest))!);
        File.WriteAllBytes(PathOf(digest), content.ToArray());
        return digest;
    }

    public BlobIngest BeginIngest(Digest expected, long expectedSize, CancellationToken cancellation = default) => new Ingest(this, expected, expectedSize);

    public void Delete(Digest digest) => File.Delete(PathOf(digest));

    public IEnumerable<(Digest Digest, long Size)> List() =>
        Directory.EnumerateFiles(Path.Combine(Root, "blobs"), "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".part", StringComparison.Ordinal))
            .Select(f => (Digest.Parse($"{Path.GetFileName(Path.GetDirectoryName(f))}:{Path.GetFileName(f)}"), new FileInfo(f).Length));

    public void Dispose() => Directory.Delete(Root, recursive: true);

    sealed class Ingest : BlobIngest
    {
        readonly TestBlobStore store;
        readonly Digest expected;
        readonly long size;
        readonly string partPath;
        FileStream? stream;

        public Ingest(TestBlobStore store, Digest expected, long size)
        {
            this.store = store;
            this.expected = expected;
            this.size = size;
            partPath = store.PathOf(expected) + ".part";
            AlreadyPresent = store.Contains(expected);
        }

        public override bool AlreadyPresent { get; }
        public override long Offset => File.Exists(partPath) ? new FileInfo(partPath).Length : 0;
        public override Stream Stream => stream ??= new FileStream(partPath, FileMode.Append, FileAccess.Write);
        public override void Restart() { stream?.Dispose(); stream = null; File.Delete(partPath); }

        public override void Commit()
        {
            stream?.Dispose();
            stream = null;
            var bytes = File.Exists(partPath) ? File.ReadAllBytes(partPath) : [];
            var actual = expected.Algorithm == "sha512" ? Digest.FromHash("sha512", SHA512.HashData(bytes)) : Digest.Sha256(bytes);
            if (bytes.Length != size || actual != expected)
            {
                File.Delete(partPath);
                throw new InvalidDataException($"blob {expected}: got {bytes.Length} bytes with digest {actual}, expected {size} bytes");
            }
            File.Move(partPath, store.PathOf(expected), overwrite: true);
        }

        public override void Dispose() => stream?.Dispose();
    }
}
