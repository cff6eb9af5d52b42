using System.Collections.Concurrent;
using System.Security.Cryptography;
using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Tests.Images.Distribution;

/// <summary>
/// A small temp-dir IBlobStore for the registry client's tests (the real store is built elsewhere): partial
/// downloads stay in ingest/ until Commit verifies size and digest, one ingest per digest at a time, and hooks
/// that let a test act in the middle of a download (kill the registry) and see what the client did.
/// </summary>
public sealed class TestBlobStore : IBlobStore, IDisposable
{
    readonly ConcurrentDictionary<string, SemaphoreSlim> locks = new();
    public string Root { get; }
    string IngestDirectory => Path.Combine(Root, "ingest");

    /// <summary>Called after each write with the bytes now in the partial file.</summary>
    public Action<long>? AfterWrite { get; set; }
    public int Restarts;
    public int Commits;
    public int FailedCommits;
    /// <summary>Bytes written through ingests, over all attempts (a resumed download writes each byte once).</summary>
    public long BytesWritten;

    public TestBlobStore()
    {
        Root = Directory.CreateTempSubdirectory("moat-test-store-").FullName;
        Directory.CreateDirectory(Path.Combine(Root, "blobs", "sha256"));
        Directory.CreateDirectory(IngestDirectory);
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    public string PathOf(Digest digest) => Path.Combine(Root, "blobs", digest.Algorithm, digest.Hex);
    string PartialOf(Digest digest) => Path.Combine(IngestDirectory, $"{digest.Algorithm}-{digest.Hex}.partial");
    public bool Contains(Digest digest) => File.Exists(PathOf(digest));
    public long? SizeOf(Digest digest) => Contains(digest) ? new FileInfo(PathOf(digest)).Length : null;
    public Stream Open(Digest digest) => File.OpenRead(PathOf(digest));
    public byte[] ReadAll(Digest digest) => File.ReadAllBytes(PathOf(digest));
    public void Delete(Digest digest) => File.Delete(PathOf(digest));
    public IEnumerable<(Digest Digest, long Size)> List() =>
        Directory.GetFiles(Path.Combine(Root, "blobs", "sha256")).Select(f => (Digest.Parse("sha256:" + Path.GetFileName(f)), new FileInfo(f).Length));
    /// <summary>Partial files left behind (a refused blob must leave none that could pass for it).</summary>
    public long PartialBytes(Digest digest) => File.Exists(PartialOf(digest)) ? new FileInfo(PartialOf(digest)).Length : 0;

    public Digest Put(ReadOnlySpan<byte> content)
    {
        var digest = Digest.Sha256(content);
        File.WriteAllBytes(PathOf(digest), content.ToArray());
        return digest;
    }

    /// <summary>Leaves a partial download as an interrupted earlier attempt would have.</summary>
    public void SeedPartial(Digest digest, ReadOnlySpan<byte> bytes) => File.WriteAllBytes(PartialOf(digest), bytes.ToArray());

    public BlobIngest BeginIngest(Digest expected, long expectedSize, CancellationToken cancellation = default)
    {
        var gate = locks.GetOrAdd(expected.ToString(), _ => new SemaphoreSlim(1, 1));
        gate.Wait(cancellation);
        return new Ingest(this, expected, expectedSize, gate);
    }

    sealed class Ingest : BlobIngest
    {
        readonly TestBlobStore store;
        readonly Digest expected;
        readonly long size;
        readonly SemaphoreSlim gate;
        readonly string partial;
        HookedStream? stream;
        bool disposed;

        public Ingest(TestBlobStore store, Digest expected, long size, SemaphoreSlim gate)
        {
            this.store = store; this.expected = expected; this.size = size; this.gate = gate;
            partial = store.PartialOf(expected);
            AlreadyPresent = store.Contains(expected);
            Offset = !AlreadyPresent && File.Exists(partial) ? new FileInfo(partial).Length : 0;
        }

        public override bool AlreadyPresent { get; }
        public override long Offset { get; }
        public override Stream Stream => stream ??= new HookedStream(new FileStream(partial, FileMode.Append, FileAccess.Write, FileShare.Read, 1), store);

        public override void Restart()
        {
            Interlocked.Increment(ref store.Restarts);
            stream?.Dispose();
            stream = null;
            File.WriteAllBytes(partial, []);
        }

        public override void Commit()
        {
            stream?.Dispose();
            stream = null;
            var length = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            Digest actual;
            using (var file = File.Exists(partial) ? File.OpenRead(partial) : Stream.Null)
                actual = Digest.FromHash(expected.Algorithm, expected.Algorithm == "sha512" ? SHA512.HashData(file) : SHA256.HashData(file));
            if (length != size || actual != expected)
            {
                Interlocked.Increment(ref store.FailedCommits);
                File.Delete(partial);
                throw new InvalidDataException($"blob {expected} has {length} bytes with digest {actual}, expected {size} bytes");
            }
            File.Move(partial, store.PathOf(expected), overwrite: true);
            Interlocked.Increment(ref store.Commits);
        }

        public override void Dispose()
        {
            if (disposed) return;
            disposed = true;
            stream?.Dispose();
            gate.Release();
        }
    }

    sealed class HookedStream(FileStream inner, TestBlobStore store) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            inner.Flush();
            Interlocked.Add(ref store.BytesWritten, buffer.Length);
            store.AfterWrite?.Invoke(inner.Length);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
