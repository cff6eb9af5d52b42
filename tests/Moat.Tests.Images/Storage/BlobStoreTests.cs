using System.Text;
using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Tests.Images.Storage;

public class BlobStoreTests : IDisposable
{
    readonly TempDirectory temp = new();
    readonly BlobStore store;

    public BlobStoreTests() => store = new BlobStore(temp.Combine("images"));

    public void Dispose() => temp.Dispose();

    static byte[] Content(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    string PartialOf(Digest digest) => Path.Combine(store.Root, "ingest", $"{digest.Algorithm}-{digest.Hex}.partial");
    string LockOf(Digest digest) => Path.Combine(store.Root, "ingest", $"{digest.Algorithm}-{digest.Hex}.lock");

    [Fact]
    public void TheDirectoryIsAnOciImageLayout()
    {
        Assert.Equal("""{"imageLayoutVersion":"1.0.0"}""", File.ReadAllText(Path.Combine(store.Root, "oci-layout")));
        Assert.Contains("\"manifests\":[]", File.ReadAllText(Path.Combine(store.Root, "index.json")));
        Assert.True(Directory.Exists(Path.Combine(store.Root, "blobs", "sha256")));
        Assert.True(Directory.Exists(Path.Combine(store.Root, "ingest")));
        // Opening it again keeps what is there.
        var digest = store.Put("x"u8);
        Assert.True(new BlobStore(store.Root).Contains(digest));
    }

    [Fact]
    public void ADirectoryWithAForeignOciLayoutFileIsRefused()
    {
        var root = temp.Combine("other");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "oci-layout"), "hello");
        var error = Assert.Throws<StorageException>(() => new BlobStore(root));
        Assert.Contains("imageLayoutVersion", error.Message);
    }

    [Fact]
    public void PutStoresContentReadOnlyUnderItsDigest()
    {
        var content = Encoding.UTF8.GetBytes("""{"schemaVersion":2}""");
        var digest = store.Put(content);
        Assert.Equal(Digest.Sha256(content), digest);
        Assert.Equal(Path.Combine(store.Root, "blobs", "sha256", digest.Hex), store.PathOf(digest));
        Assert.True(store.Contains(digest));
        Assert.Equal(content.Length, store.SizeOf(digest));
        Assert.Equal(content, store.ReadAll(digest));
        using (var stream = store.Open(digest))
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            Assert.Equal(content, copy.ToArray());
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(store.PathOf(digest)));
        Assert.Equal([(digest, (long)content.Length)], store.List().ToList());
        // Nothing is left in ingest/: no partial, no lock file.
        Assert.Empty(Directory.GetFiles(Path.Combine(store.Root, "ingest")));
        // Putting the same content again is a no-op.
        Assert.Equal(digest, store.Put(content));
    }

    [Fact]
    public void AnAbsentBlobIsNamedInTheError()
    {
        var digest = Digest.Sha256("absent"u8);
        Assert.Null(store.SizeOf(digest));
        Assert.False(store.Contains(digest));
        var error = Assert.Throws<BlobNotFoundException>(() => store.Open(digest));
        Assert.Contains(digest.ToString(), error.Message);
        Assert.Contains(digest.ToString(), Assert.Throws<BlobNotFoundException>(() => store.ReadAll(digest)).Message);
        store.Delete(digest); // absent is not an error
    }

    [Fact]
    public void DeleteRemovesACommittedBlob()
    {
        var digest = store.Put("to delete"u8);
        store.Delete(digest);
        Assert.False(store.Contains(digest));
        Assert.Empty(store.List());
    }

    [Fact]
    public void ListSkipsFilesThatAreNotNamedByADigest()
    {
        var digest = store.Put("a"u8);
        File.WriteAllText(Path.Combine(store.Root, "blobs", "sha256", "not-a-digest"), "junk");
        Assert.Equal([digest], store.List().Select(b => b.Digest).ToList());
    }

    [Fact]
    public void AnIngestWrittenInPiecesCommitsAfterVerification()
    {
        var content = Content(3 << 20);
        var digest = Digest.Sha256(content);
        using (var ingest = store.BeginIngest(digest, content.Length))
        {
            Assert.False(ingest.AlreadyPresent);
            Assert.Equal(0, ingest.Offset);
            for (var i = 0; i < content.Length; i += 100_000)
                ingest.Stream.Write(content, i, Math.Min(100_000, content.Length - i));
            Assert.False(store.Contains(digest)); // invisible until committed
            ingest.Commit();
        }
        Assert.Equal(content, store.ReadAll(digest));
        Assert.False(File.Exists(PartialOf(digest)));
        Assert.False(File.Exists(LockOf(digest)));
    }

    [Fact]
    public async Task AnIngestAcceptsAsynchronousWrites()
    {
        var content = Content(200_000);
        var digest = Digest.Sha256(content);
        using var ingest = store.BeginIngest(digest, content.Length);
        await new MemoryStream(content).CopyToAsync(ingest.Stream);
        ingest.Commit();
        Assert.Equal(content, store.ReadAll(digest));
    }

    [Fact]
    public void ContentThatDoesNotMatchItsDigestIsDiscardedWithBothDigestsNamed()
    {
        var expected = Digest.Sha256("the real content"u8);
        var wrong = "a forgery content"u8.ToArray();
        using var ingest = store.BeginIngest(expected, wrong.Length);
        ingest.Stream.Write(wrong);
        var error = Assert.Throws<BlobVerificationException>(ingest.Commit);
        Assert.Contains(expected.ToString(), error.Message);
        Assert.Contains(Digest.Sha256(wrong).ToString(), error.Message);
        Assert.Equal(Digest.Sha256(wrong), error.Actual);
        Assert.False(store.Contains(expected));
        Assert.False(File.Exists(PartialOf(expected)));
        Assert.Empty(store.List());
    }

    [Fact]
    public void ContentOfTheWrongSizeIsDiscarded()
    {
        var content = "sized"u8.ToArray();
        var digest = Digest.Sha256(content);
        using var ingest = store.BeginIngest(digest, content.Length + 1);
        ingest.Stream.Write(content);
        var error = Assert.Throws<BlobVerificationException>(ingest.Commit);
        Assert.Contains($"expected to be {content.Length + 1} bytes but {content.Length}", error.Message);
        Assert.False(store.Contains(digest));
        Assert.False(File.Exists(PartialOf(digest)));
    }

    [Fact]
    public void AnUnknownSizeIsVerifiedByDigestOnly()
    {
        var content = "manifest by tag"u8.ToArray();
        var digest = Digest.Sha256(content);
        using var ingest = store.BeginIngest(digest, -1);
        ingest.Stream.Write(content);
        ingest.Commit();
        Assert.True(store.Contains(digest));
    }

    [Fact]
    public void AnInterruptedIngestResumesAtItsOffsetAndVerifiesTheWhole()
    {
        var content = Content(1 << 20, seed: 2);
        var digest = Digest.Sha256(content);
        using (var first = store.BeginIngest(digest, content.Length))
            first.Stream.Write(content, 0, 300_000); // disposed without commit: the bytes stay
        Assert.Equal(300_000, new FileInfo(PartialOf(digest)).Length);

        using (var second = store.BeginIngest(digest, content.Length))
        {
            Assert.Equal(300_000, second.Offset);
            Assert.Equal(300_000, second.Stream.Position);
            second.Stream.Write(content, 300_000, content.Length - 300_000);
            second.Commit();
        }
        Assert.Equal(content, store.ReadAll(digest));
    }

    [Fact]
    public void AResumeOverWrongEarlierBytesFailsVerification()
    {
        // The earlier bytes count: a resumed ingest hashes the partial, it does not trust it.
        var content = Content(10_000, seed: 3);
        var digest = Digest.Sha256(content);
        using (var first = store.BeginIngest(digest, content.Length))
            first.Stream.Write(new byte[4_000]);
        using var second = store.BeginIngest(digest, content.Length);
        Assert.Equal(4_000, second.Offset);
        second.Stream.Write(content, 4_000, content.Length - 4_000);
        Assert.Throws<BlobVerificationException>(second.Commit);
        Assert.False(store.Contains(digest));
        Assert.False(File.Exists(PartialOf(digest)));
    }

    [Fact]
    public void RestartDropsThePartialBytes()
    {
        var content = Content(10_000, seed: 4);
        var digest = Digest.Sha256(content);
        using (var first = store.BeginIngest(digest, content.Length))
            first.Stream.Write(new byte[4_000]);
        using var second = store.BeginIngest(digest, content.Length);
        Assert.Equal(4_000, second.Offset);
        second.Restart();
        Assert.Equal(0, second.Offset);
        Assert.Equal(0, second.Stream.Position);
        second.Stream.Write(content);
        second.Commit();
        Assert.Equal(content, store.ReadAll(digest));
    }

    [Fact]
    public void APartialLongerThanTheBlobIsStartedOver()
    {
        var content = "short"u8.ToArray();
        var digest = Digest.Sha256(content);
        File.WriteAllBytes(PartialOf(digest), new byte[100]);
        using var ingest = store.BeginIngest(digest, content.Length);
        Assert.Equal(0, ingest.Offset);
        ingest.Stream.Write(content);
        ingest.Commit();
        Assert.Equal(content, store.ReadAll(digest));
    }

    [Fact]
    public void AStalePartialAndLockFileFromACrashAreResumed()
    {
        // What a process killed mid-download leaves: a partial and a lock file that nobody holds.
        var content = Content(50_000, seed: 5);
        var digest = Digest.Sha256(content);
        File.WriteAllBytes(PartialOf(digest), content[..20_000]);
        File.WriteAllText(LockOf(digest), "");
        using var ingest = store.BeginIngest(digest, content.Length, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        Assert.Equal(20_000, ingest.Offset);
        ingest.Stream.Write(content.AsSpan(20_000));
        ingest.Commit();
        Assert.Equal(content, store.ReadAll(digest));
    }

    [Fact]
    public void APartialWrittenByAProcessKilledWhileHoldingTheLockIsResumed()
    {
        var content = Content(30_000, seed: 6);
        var digest = Digest.Sha256(content);
        var prefix = temp.Combine("prefix");
        File.WriteAllBytes(prefix, content[..12_345]);
        using (var writer = new ChildProcess("flock", "--exclusive", LockOf(digest), "sh", "-c", $"cat '{prefix}' > '{PartialOf(digest)}'; echo ready; sleep 60"))
        {
            Assert.Equal("ready", writer.ReadLine(TimeSpan.FromSeconds(10)));
            writer.Kill(); // SIGKILL: the kernel drops its lock, the partial stays
        }
        using var ingest = store.BeginIngest(digest, content.Length, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        Assert.Equal(12_345, ingest.Offset);
        ingest.Stream.Write(content.AsSpan(12_345));
        ingest.Commit();
        Assert.Equal(content, store.ReadAll(digest));
    }

    [Fact]
    public async Task ASecondIngestOfTheSameBlobInThisProcessWaitsAndFindsItCommitted()
    {
        var content = Content(100_000, seed: 7);
        var digest = Digest.Sha256(content);
        using var first = store.BeginIngest(digest, content.Length);
        first.Stream.Write(content, 0, 50_000);

        var second = Task.Run(() => store.BeginIngest(digest, content.Length));
        await Waits.AssertStillWaiting(second, "the second ingest must wait for the first");

        first.Stream.Write(content, 50_000, 50_000);
        first.Commit();
        using var waited = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(waited.AlreadyPresent);
        Assert.Throws<InvalidOperationException>(() => waited.Stream);
        waited.Commit(); // nothing to do, not an error
        Assert.Equal(content, store.ReadAll(digest));
    }

    [Fact]
    public void ManyThreadsPuttingTheSameBlobStoreItOnce()
    {
        var content = Content(500_000, seed: 8);
        var digests = new Digest[8];
        Parallel.For(0, digests.Length, i =>
        {
            using var ingest = store.BeginIngest(Digest.Sha256(content), content.Length);
            if (!ingest.AlreadyPresent)
            {
                ingest.Stream.Write(content);
                ingest.Commit();
            }
            digests[i] = Digest.Sha256(content);
        });
        Assert.Single(store.List());
        Assert.Equal(content, store.ReadAll(digests[0]));
        Assert.Empty(Directory.GetFiles(Path.Combine(store.Root, "ingest")));
    }

    [Fact]
    public async Task AnIngestWaitsForAnotherProcessHoldingTheLock()
    {
        var content = Content(1_000, seed: 9);
        var digest = Digest.Sha256(content);
        // Another process (flock(1)) holds the digest's lock until its stdin closes.
        using var holder = new ChildProcess("flock", "--exclusive", LockOf(digest), "sh", "-c", "echo held; cat >/dev/null");
        Assert.Equal("held", holder.ReadLine(TimeSpan.FromSeconds(10)));

        var waiting = Task.Run(() => store.BeginIngest(digest, content.Length));
        await Waits.AssertStillWaiting(waiting, "the ingest must wait for the other process");
        holder.Input.Close();
        Assert.Equal(0, holder.WaitForExit(TimeSpan.FromSeconds(10)));
        using var ingest = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(ingest.AlreadyPresent);
        ingest.Stream.Write(content);
        ingest.Commit();
        Assert.True(store.Contains(digest));
    }

    [Fact]
    public void AnotherProcessCannotTakeTheLockOfARunningIngest()
    {
        var digest = Digest.Sha256("held by moat"u8);
        using var ingest = store.BeginIngest(digest, 12);
        using var probe = new ChildProcess("flock", "--nonblock", "--exclusive", LockOf(digest), "true");
        Assert.Equal(1, probe.WaitForExit(TimeSpan.FromSeconds(10)));
        ingest.Dispose();
        using var after = new ChildProcess("flock", "--nonblock", "--exclusive", LockOf(digest), "true");
        Assert.Equal(0, after.WaitForExit(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void AnIngestOfACommittedBlobNeitherWaitsNorWrites()
    {
        var digest = store.Put("committed"u8);
        using var holder = new ChildProcess("flock", "--exclusive", LockOf(digest), "sh", "-c", "echo held; cat >/dev/null");
        Assert.Equal("held", holder.ReadLine(TimeSpan.FromSeconds(10)));
        using var ingest = store.BeginIngest(digest, 9, new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
        Assert.True(ingest.AlreadyPresent);
        Assert.Equal(9, ingest.Offset);
    }

    [Fact]
    public void AWaitingIngestHonoursCancellation()
    {
        var digest = Digest.Sha256("cancel me"u8);
        using var holder = new ChildProcess("flock", "--exclusive", LockOf(digest), "sh", "-c", "echo held; cat >/dev/null");
        Assert.Equal("held", holder.ReadLine(TimeSpan.FromSeconds(10)));
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.ThrowsAny<OperationCanceledException>(() => store.BeginIngest(digest, 9, cancellation.Token));
    }

    [Fact]
    public void PruneIngestsRemovesAbandonedPartialsButNotHeldOnes()
    {
        var abandoned = Digest.Sha256("abandoned"u8);
        using (var ingest = store.BeginIngest(abandoned, 9))
            ingest.Stream.Write("aband"u8);
        var held = Digest.Sha256("held"u8);
        using var running = store.BeginIngest(held, 4);
        running.Stream.Write("he"u8);

        Assert.Equal(0, store.PruneIngests(TimeSpan.FromHours(1))); // both too young
        Assert.Equal(5, store.PruneIngests(TimeSpan.Zero));
        Assert.False(File.Exists(PartialOf(abandoned)));
        Assert.True(File.Exists(PartialOf(held)));
        running.Stream.Write("ld"u8);
        running.Commit();
        Assert.True(store.Contains(held));
    }
}
