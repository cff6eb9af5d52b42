using Microsoft.Data.Sqlite;
using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Tests.Images.Storage;

public class ImageCatalogTests : IDisposable
{
    readonly TempDirectory temp = new();
    readonly string databasePath;
    readonly ImageCatalog catalog;

    public ImageCatalogTests()
    {
        databasePath = temp.Combine("images.db");
        catalog = new ImageCatalog(databasePath);
    }

    public void Dispose()
    {
        catalog.Dispose();
        temp.Dispose();
    }

    internal static Digest Id(string hexStart) => Digest.Parse("sha256:" + hexStart + new string('0', 64 - hexStart.Length));

    internal static ImageRecord Image(Digest id, string[]? names = null, string[]? repoDigests = null, DateTimeOffset? stored = null) => new()
    {
        Id = id,
        ManifestDigest = Digest.Sha256(System.Text.Encoding.UTF8.GetBytes("manifest of " + id)),
        ManifestMediaType = MediaTypes.OciManifest,
        Size = 1234,
        Created = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)),
        Stored = stored ?? new DateTimeOffset(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero),
        Platform = "linux/amd64",
        Names = names ?? [],
        RepoDigests = repoDigests ?? [],
    };

    long Count(string table)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public void AnImageRoundTripsWithEveryField()
    {
        var id = Id("1111");
        catalog.Put(Image(id, ["docker.io/library/busybox:latest", "localhost/mine:1"], ["docker.io/library/busybox@" + Digest.Sha256("m"u8)]));
        var image = catalog.Get(id)!;
        Assert.Equal(id, image.Id);
        Assert.Equal(Image(id).ManifestDigest, image.ManifestDigest);
        Assert.Equal(MediaTypes.OciManifest, image.ManifestMediaType);
        Assert.Equal(1234, image.Size);
        Assert.Equal(new DateTimeOffset(2024, 5, 6, 5, 8, 9, TimeSpan.Zero), image.Created);
        Assert.Equal(TimeSpan.Zero, image.Created.Offset);
        Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero), image.Stored);
        Assert.Equal("linux/amd64", image.Platform);
        Assert.Equal(["docker.io/library/busybox:latest", "localhost/mine:1"], image.Names);
        Assert.Equal(["docker.io/library/busybox@" + Digest.Sha256("m"u8)], image.RepoDigests);
    }

    [Fact]
    public void FindAcceptsEveryKindOfReference()
    {
        var id = Id("abcdef12");
        var repoDigest = "docker.io/library/busybox@" + Digest.Sha256("manifest"u8);
        catalog.Put(Image(id, ["docker.io/library/busybox:latest"], [repoDigest]));
        catalog.Put(Image(Id("99")));
        foreach (var reference in (string[])["docker.io/library/busybox:latest", repoDigest, id.ToString(), id.Hex, "abcd", "abcdef12", "ABCDEF12", "sha256:abcdef", id.Short])
            Assert.Equal(id, catalog.Find(reference)?.Id);
        foreach (var reference in (string[])["docker.io/library/busybox:other", "docker.io/library/busybox@" + Digest.Sha256("x"u8), "abc", "abce", "sha256:" + new string('f', 64), "not an id"])
            Assert.Null(catalog.Find(reference));
        Assert.Throws<ArgumentException>(() => catalog.Find(""));
    }

    [Fact]
    public void AnAmbiguousIdPrefixIsAClearError()
    {
        catalog.Put(Image(Id("abcd1")));
        catalog.Put(Image(Id("abcd2")));
        var error = Assert.Throws<AmbiguousImageException>(() => catalog.Find("abcd"));
        Assert.Contains("ambiguous", error.Message);
        Assert.Contains(Id("abcd1").Short, error.Message);
        Assert.Contains(Id("abcd2").Short, error.Message);
        Assert.Equal(Id("abcd1"), catalog.Find("abcd1")!.Id);
    }

    [Fact]
    public void ANameMovesToTheImageThatIsGivenIt()
    {
        var old = Id("01");
        var current = Id("02");
        catalog.Put(Image(old, ["docker.io/library/app:latest", "docker.io/library/app:1.0"]));
        catalog.Put(Image(current, ["docker.io/library/app:latest"]));
        Assert.Equal(current, catalog.Find("docker.io/library/app:latest")!.Id);
        Assert.Equal(["docker.io/library/app:1.0"], catalog.Get(old)!.Names);

        // Losing its last name leaves the old image dangling (<none>), still listed and still findable by id.
        catalog.Tag(current, "docker.io/library/app:1.0");
        Assert.Empty(catalog.Get(old)!.Names);
        Assert.Equal(2, catalog.List().Count);
        Assert.Equal(old, catalog.Find(old.Short)!.Id);
        Assert.Equal(["docker.io/library/app:1.0", "docker.io/library/app:latest"], catalog.Get(current)!.Names);
    }

    [Fact]
    public void PutAgainAddsNamesKeepsTheOthersAndTheFirstStoredTime()
    {
        var id = Id("03");
        var first = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        catalog.Put(Image(id, ["localhost/a:1"], stored: first));
        catalog.Put(Image(id, ["localhost/a:2"], stored: first.AddDays(3)) with { Size = 99 });
        var image = catalog.Get(id)!;
        Assert.Equal(["localhost/a:1", "localhost/a:2"], image.Names);
        Assert.Equal(first, image.Stored);
        Assert.Equal(99, image.Size);
        Assert.Single(catalog.List());
    }

    [Fact]
    public void TagAndUntag()
    {
        var id = Id("04");
        catalog.Put(Image(id));
        catalog.Tag(id, "localhost/tagged:v1");
        Assert.Equal(id, catalog.Find("localhost/tagged:v1")!.Id);
        Assert.True(catalog.Untag("localhost/tagged:v1"));
        Assert.False(catalog.Untag("localhost/tagged:v1"));
        Assert.Null(catalog.Find("localhost/tagged:v1"));
        var error = Assert.Throws<StorageException>(() => catalog.Tag(Id("05"), "localhost/x:1"));
        Assert.Contains(Id("05").ToString(), error.Message);
    }

    [Theory]
    [InlineData("busybox")]
    [InlineData("busybox:latest")]
    [InlineData("docker.io/library/busybox")]
    [InlineData("docker.io/library/busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("docker.io/library/bad name:1")]
    [InlineData("localhost:5000/app")]
    public void NamesThatAreNotFullNamesWithATagAreRefused(string name)
    {
        catalog.Put(Image(Id("06")));
        var error = Assert.Throws<ArgumentException>(() => catalog.Tag(Id("06"), name));
        Assert.Contains(name.Split('@')[0], error.Message);
        Assert.Throws<ArgumentException>(() => catalog.Put(Image(Id("07"), [name])));
        Assert.Null(catalog.Get(Id("07")));
    }

    [Fact]
    public void MalformedRepoDigestsAreRefused() =>
        Assert.Throws<ArgumentException>(() => catalog.Put(Image(Id("08"), repoDigests: ["docker.io/library/busybox@sha256:abc"])));

    [Fact]
    public void UsersAreRecordedPerImage()
    {
        var a = Id("0a");
        var b = Id("0b");
        catalog.Put(Image(a));
        catalog.Put(Image(b));
        catalog.AddUser(a, "container-2");
        catalog.AddUser(a, "container-1");
        catalog.AddUser(a, "container-1");
        catalog.AddUser(b, "container-3");
        Assert.Equal(["container-1", "container-2"], catalog.UsersOf(a));
        catalog.RemoveUser("container-1");
        Assert.Equal(["container-2"], catalog.UsersOf(a));
        Assert.Equal(["container-3"], catalog.UsersOf(b));
        Assert.Throws<StorageException>(() => catalog.AddUser(Id("0c"), "container-4"));
    }

    [Fact]
    public void RemoveTakesNamesRepoDigestsAndUsersWithIt()
    {
        var id = Id("0d");
        catalog.Put(Image(id, ["localhost/gone:1"], ["localhost/gone@" + Digest.Sha256("g"u8)]));
        catalog.AddUser(id, "c1");
        var kept = Id("0e");
        catalog.Put(Image(kept, ["localhost/kept:1"]));
        catalog.Remove(id);
        Assert.Null(catalog.Get(id));
        Assert.Null(catalog.Find("localhost/gone:1"));
        Assert.Null(catalog.Find("localhost/gone@" + Digest.Sha256("g"u8)));
        Assert.Empty(catalog.UsersOf(id));
        Assert.Equal(1, Count("images"));
        Assert.Equal(1, Count("names"));
        Assert.Equal(0, Count("repo_digests"));
        Assert.Equal(0, Count("image_users"));
        catalog.Remove(id); // absent: nothing to do
        catalog.Tag(kept, "localhost/gone:1"); // the name is free again
    }

    [Fact]
    public void ARepoDigestSharedByTwoImagesFindsTheNewest()
    {
        // An index's repo digest names one image per platform pulled.
        var index = "docker.io/library/multi@" + Digest.Sha256("index"u8);
        catalog.Put(Image(Id("10"), repoDigests: [index], stored: DateTimeOffset.UnixEpoch.AddDays(1)));
        catalog.Put(Image(Id("11"), repoDigests: [index], stored: DateTimeOffset.UnixEpoch.AddDays(2)));
        Assert.Equal(Id("11"), catalog.Find(index)!.Id);
    }

    [Fact]
    public void ListIsNewestFirst()
    {
        catalog.Put(Image(Id("21"), stored: DateTimeOffset.UnixEpoch.AddDays(1)));
        catalog.Put(Image(Id("22"), ["localhost/b:1"], stored: DateTimeOffset.UnixEpoch.AddDays(3)));
        catalog.Put(Image(Id("23"), stored: DateTimeOffset.UnixEpoch.AddDays(2)));
        Assert.Equal([Id("22"), Id("23"), Id("21")], catalog.List().Select(i => i.Id));
        Assert.Equal(["localhost/b:1"], catalog.List()[0].Names);
    }

    [Fact]
    public void AFailedChangeLeavesNothingBehind()
    {
        var old = Id("31");
        catalog.Put(Image(old, ["localhost/app:latest"]));
        catalog.BeforeCommit = () => throw new IOException("simulated failure before commit");
        Assert.Throws<IOException>(() => catalog.Put(Image(Id("32"), ["localhost/app:latest", "localhost/app:new"], ["localhost/app@" + Digest.Sha256("n"u8)])));
        Assert.Throws<IOException>(() => catalog.Remove(old));
        catalog.BeforeCommit = null;

        Assert.Null(catalog.Get(Id("32")));
        Assert.Equal(old, catalog.Find("localhost/app:latest")!.Id); // the name did not move
        Assert.Null(catalog.Find("localhost/app:new"));
        using var other = new ImageCatalog(databasePath);
        Assert.Equal([old], other.List().Select(i => i.Id));
        Assert.Equal(1, Count("names"));
        Assert.Equal(0, Count("repo_digests"));
    }

    [Fact]
    public void TheDatabaseIsPrivateVersionedAndInWalMode()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(databasePath));
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        Assert.Equal(1L, command.ExecuteScalar());
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
    }

    [Fact]
    public void ADatabaseFromANewerMoatIsRefusedByName()
    {
        var path = temp.Combine("newer.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }
        var error = Assert.Throws<StorageException>(() => new ImageCatalog(path));
        Assert.Contains("99", error.Message);
        Assert.Contains("newer", error.Message);
    }

    [Fact]
    public void AFileThatIsNotADatabaseIsNamedInTheError()
    {
        var path = temp.Combine("garbage.db");
        File.WriteAllText(path, new string('x', 4096));
        var error = Assert.Throws<StorageException>(() => new ImageCatalog(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void DataSurvivesReopening()
    {
        catalog.Put(Image(Id("41"), ["localhost/persist:1"]));
        catalog.AddUser(Id("41"), "c");
        catalog.Dispose();
        using var reopened = new ImageCatalog(databasePath);
        Assert.Equal(Id("41"), reopened.Find("localhost/persist:1")!.Id);
        Assert.Equal(["c"], reopened.UsersOf(Id("41")));
        Assert.Throws<ObjectDisposedException>(() => catalog.List());
    }

    [Fact]
    public void TwoCatalogueInstancesWriteTheSameFileConcurrently()
    {
        var path = temp.Combine("shared.db");
        using (new ImageCatalog(path)) { }
        Parallel.For(0, 2, writer =>
        {
            using var own = new ImageCatalog(path);
            for (var i = 0; i < 40; i++)
            {
                var id = Id($"{writer}{i:x3}");
                own.Put(Image(id, [$"localhost/w{writer}:{i}", "localhost/contended:latest"]));
                own.AddUser(id, $"c{writer}-{i}");
            }
        });
        using var reader = new ImageCatalog(path);
        var images = reader.List();
        Assert.Equal(80, images.Count);
        Assert.Equal(81, images.Sum(i => i.Names.Count)); // the contended name is on exactly one image
        Assert.All(images, i => Assert.Single(reader.UsersOf(i.Id)));
    }

    [Fact]
    public async Task AWriterWaitsForAnotherProcessesTransaction()
    {
        // The sqlite3 shell holds the write lock until its stdin closes.
        using var holder = new ChildProcess("sqlite3", databasePath);
        holder.Input.WriteLine("PRAGMA busy_timeout=5000; BEGIN IMMEDIATE; INSERT INTO images VALUES ('" + Id("51") + "', '" + Id("52") + "', 'm', 1, '2025-01-01T00:00:00.0000000Z', '2025-01-01T00:00:00.0000000Z', 'linux/amd64'); SELECT 'held';");
        holder.Input.Flush();
        Assert.True(holder.WaitForLine("held", TimeSpan.FromSeconds(10)));

        var put = Task.Run(() => catalog.Put(Image(Id("53"), ["localhost/waiting:1"])));
        await Waits.AssertStillWaiting(put, "the catalogue must wait for the other writer, not fail");
        holder.Input.WriteLine("COMMIT;");
        holder.Input.Close();
        Assert.Equal(0, holder.WaitForExit(TimeSpan.FromSeconds(10)));
        await put.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, catalog.List().Count);
    }

    [Fact]
    public void AProcessKilledMidTransactionLeavesTheLastCommittedState()
    {
        catalog.Put(Image(Id("61"), ["localhost/before:1"]));
        catalog.Dispose();

        // sqlite3 commits one image, then dies (SIGKILL) inside a big transaction whose pages spilled
        // into the WAL (a one-page cache); the checkpoint is off so the committed frames stay in the WAL too.
        using (var writer = new ChildProcess("sqlite3", databasePath))
        {
            writer.Input.WriteLine("PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=1; PRAGMA foreign_keys=ON;");
            writer.Input.WriteLine($"INSERT INTO images VALUES ('{Id("62")}', '{Id("63")}', 'm', 1, '2025-01-01T00:00:00.0000000Z', '2025-01-01T00:00:00.0000000Z', 'linux/amd64');");
            writer.Input.WriteLine($"INSERT INTO names VALUES ('localhost/committed:1', '{Id("62")}');");
            writer.Input.WriteLine("BEGIN;");
            writer.Input.WriteLine($"UPDATE names SET image_id = '{Id("62")}' WHERE name = 'localhost/before:1';");
            writer.Input.WriteLine("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) " +
                "INSERT INTO images SELECT printf('sha256:%064x', i + 1000000), 'sha256:x', 'm', 1, 'x', 'x', 'linux/amd64' FROM n;");
            writer.Input.WriteLine("SELECT 'inside';");
            writer.Input.Flush();
            Assert.True(writer.WaitForLine("inside", TimeSpan.FromSeconds(30)));
            writer.Kill();
        }
        // The uncommitted transaction's pages are in the WAL (megabytes of them), not only the committed ones.
        Assert.True(new FileInfo(databasePath + "-wal").Length > 256 * 1024, "the WAL should hold the killed transaction's frames at reopening");

        using var reopened = new ImageCatalog(databasePath);
        Assert.Equal([Id("61").ToString(), Id("62").ToString()], reopened.List().Select(i => i.Id.ToString()).Order());
        Assert.Equal(Id("61"), reopened.Find("localhost/before:1")!.Id);
        Assert.Equal(Id("62"), reopened.Find("localhost/committed:1")!.Id);
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", command.ExecuteScalar());
    }
}
