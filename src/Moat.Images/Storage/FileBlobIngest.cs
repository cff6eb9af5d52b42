using System.Security.Cryptography;
using Moat.Images.Model;

namespace Moat.Images.Storage;

/// <summary>
/// A blob being written to `ingest/&lt;algorithm&gt;-&lt;hex&gt;.partial` under the digest's lock. The bytes of an
/// earlier attempt are hashed once when the ingest starts, so Commit verifies the whole blob, old and new bytes.
/// </summary>
internal sealed class FileBlobIngest : BlobIngest
{
    const UnixFileMode PartialMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    const UnixFileMode BlobMode = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    readonly Digest expected;
    readonly long expectedSize;
    readonly string partialPath, targetPath;
    readonly FileLock fileLock;
    readonly FileStream file;
    readonly IngestStream stream;
    IncrementalHash hasher;
    long offset;
    bool finished, disposed;

    public FileBlobIngest(Digest expected, long expectedSize, string partialPath, string targetPath, FileLock fileLock)
    {
        this.expected = expected;
        this.expectedSize = expectedSize;
        this.partialPath = partialPath;
        this.targetPath = targetPath;
        this.fileLock = fileLock;
        hasher = expected.CreateHasher();
        file = new FileStream(partialPath, new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite, BufferSize = 0, UnixCreateMode = PartialMode,
        });
        try
        {
            offset = file.Length;
            // More bytes than the blob has cannot be a prefix of it: that partial is of no use.
            if (expectedSize >= 0 && offset > expectedSize)
            {
                file.SetLength(0);
                offset = 0;
            }
            HashExisting();
        }
        catch
        {
            file.Dispose();
            throw;
        }
        stream = new IngestStream(this);
    }

    public override bool AlreadyPresent => false;
    public override long Offset => offset;
    public override Stream Stream
    {
        get
        {
            CheckOpen();
            return stream;
        }
    }

    public override void Restart()
    {
        CheckOpen();
        file.SetLength(0);
        file.Position = 0;
        hasher.Dispose();
        hasher = expected.CreateHasher();
        offset = 0;
        stream.Reset();
    }

    public override void Commit()
    {
        CheckOpen();
        if (stream.Broken)
            throw new StorageException($"blob {expected} cannot be committed: a write to it failed earlier (the partial bytes are kept for a retry)");
        file.Flush(flushToDisk: true);
        var actualSize = file.Length;
        var actual = Digest.FromHash(expected.Algorithm, hasher.GetHashAndReset());
        if (actual != expected || (expectedSize >= 0 && actualSize != expectedSize))
        {
            finished = true;
            file.Dispose();
            File.Delete(partialPath);
            fileLock.RemoveFile();
            fileLock.Dispose();
            throw new BlobVerificationException(expected, actual, expectedSize, actualSize);
        }
        File.SetUnixFileMode(file.SafeFileHandle, BlobMode);
        file.Dispose();
        // rename(2) is atomic: readers see no blob or the whole verified blob. The directory's fsync makes
        // the new name survive a power cut, as the file's fsync above made the bytes survive.
        File.Move(partialPath, targetPath, overwrite: true);
        BlobStore.SyncDirectory(Path.GetDirectoryName(targetPath)!);
        finished = true;
        fileLock.RemoveFile();
        fileLock.Dispose();
    }

    public override void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        if (!finished)
        {
            // The partial stays for a resume; flush what the kernel holds so the resume finds it after a crash too.
            try { file.Flush(flushToDisk: true); } catch (IOException) { }
            file.Dispose();
            fileLock.Dispose();
        }
        hasher.Dispose();
    }

    void HashExisting()
    {
        var buffer = new byte[1 << 20];
        file.Position = 0;
        long done = 0;
        while (done < offset)
        {
            var n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, offset - done));
            if (n == 0)
                throw new StorageException($"{partialPath} shrank while it was being read: is another process writing blob {expected} without its lock?");
            hasher.AppendData(buffer, 0, n);
            done += n;
        }
        file.Position = offset;
    }

    void CheckOpen()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (finished)
            throw new InvalidOperationException($"the ingest of blob {expected} is already committed or discarded");
    }

    /// <summary>Appends to the partial and hashes what it appends; write-only, forward-only.</summary>
    sealed class IngestStream(FileBlobIngest ingest) : Stream
    {
        long written;
        /// <summary>A write failed part way: what is on disk is no longer what was hashed.</summary>
        public bool Broken { get; private set; }

        public void Reset()
        {
            written = 0;
            Broken = false;
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position
        {
            get => ingest.offset + written;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ingest.CheckOpen();
            try
            {
                ingest.file.Write(buffer);
            }
            catch
            {
                Broken = true;
                throw;
            }
            ingest.hasher.AppendData(buffer);
            written += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ingest.CheckOpen();
            try
            {
                await ingest.file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Broken = true;
                throw;
            }
            ingest.hasher.AppendData(buffer.Span);
            written += buffer.Length;
        }

        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
