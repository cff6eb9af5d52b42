using Moat.Oci;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Moat.Images.Model;

namespace Moat.Images.Storage;

/// <summary>
/// The image catalogue in one SQLite file (see <see cref="IImageCatalog"/> for the semantics).
/// <para>
/// WAL: readers never block the writer, and a crash leaves the last committed state. synchronous=FULL:
/// a commit is on disk when the command returns, as the blobs it names are (the blob store fsyncs each);
/// changes are rare (a pull, a tag, a container created), so the fsync per commit costs nothing that
/// matters, and podman's SQLite state chose the same. busy_timeout lets two Moat processes share the
/// file: a writer waits for the other's transaction instead of failing.
/// </para>
/// One connection per instance, used by one thread at a time (a lock); open more instances for parallel work.
/// </summary>
public sealed class ImageCatalog : IImageCatalog
{
    const int BusyTimeoutSeconds = 30;
    const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";
    const UnixFileMode DatabaseMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    readonly SqliteConnection connection;
    readonly Lock gate = new();
    bool disposed;

    /// <summary>For tests: runs inside every write transaction just before it commits.</summary>
    internal Action? BeforeCommit { get; set; }

    public string DatabasePath { get; }

    /// <summary>Opens (creating and migrating when needed) the catalogue at <paramref name="databasePath"/>.</summary>
    public ImageCatalog(string databasePath)
    {
        DatabasePath = Path.GetFullPath(databasePath);
        SqliteProvider.EnsureInitialized();
        var directory = Path.GetDirectoryName(DatabasePath)!;
        if (!Directory.Exists(directory))
            throw new StorageException($"cannot open the image catalogue {DatabasePath}: its directory does not exist");
        // SQLite would create the file with 0644 (less the umask), and its -wal and -shm files copy the
        // mode: the catalogue is private, so create the file first.
        if (!File.Exists(DatabasePath))
            new FileStream(DatabasePath, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, UnixCreateMode = DatabaseMode }).Dispose();
        connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            // No pool: Dispose closes the file, so nothing of the catalogue outlives its owner.
            Pooling = false,
            DefaultTimeout = BusyTimeoutSeconds,
        }.ToString());
        try
        {
            connection.Open();
            Execute($"PRAGMA busy_timeout = {BusyTimeoutSeconds * 1000}");
            var mode = Scalar("PRAGMA journal_mode = WAL") as string;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                throw new StorageException($"cannot put the image catalogue {DatabasePath} in WAL mode (SQLite answered '{mode}'): is it on a filesystem without shared memory, such as NFS?");
            Execute("PRAGMA synchronous = FULL");
            SqliteProvider.KeepWriteAheadLog(connection);
            Execute("PRAGMA foreign_keys = ON");
            CatalogSchema.Migrate(connection, DatabasePath);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new StorageException($"cannot open the image catalogue {DatabasePath}: {ErrorText.Reason(e)}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public void Put(ImageRecord image)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckId(image.Id);
        if (image.ManifestDigest.IsEmpty)
            throw new ArgumentException($"image {image.Id} has no manifest digest", nameof(image));
        if (string.IsNullOrEmpty(image.ManifestMediaType))
            throw new ArgumentException($"image {image.Id} has no manifest media type", nameof(image));
        if (image.Size < 0)
            throw new ArgumentException($"image {image.Id} has a negative size ({image.Size})", nameof(image));
        foreach (var name in image.Names)
            CheckName(name);
        foreach (var repoDigest in image.RepoDigests)
            CheckRepoDigest(repoDigest);
        Write(transaction =>
        {
            // An image stored again keeps the time it was first stored; everything else is replaced.
            Run(transaction, """
                INSERT INTO images (id, manifest_digest, manifest_media_type, size, created, stored, platform)
                VALUES ($id, $manifest, $mediaType, $size, $created, $stored, $platform)
                ON CONFLICT (id) DO UPDATE SET manifest_digest = excluded.manifest_digest,
                    manifest_media_type = excluded.manifest_media_type, size = excluded.size,
                    created = excluded.created, platform = excluded.platform
                """,
                ("$id", image.Id.ToString()), ("$manifest", image.ManifestDigest.ToString()), ("$mediaType", image.ManifestMediaType),
                ("$size", image.Size), ("$created", FormatTime(image.Created)), ("$stored", FormatTime(image.Stored)), ("$platform", image.Platform ?? ""));
            foreach (var name in image.Names)
                AttachName(transaction, image.Id, name);
            foreach (var repoDigest in image.RepoDigests)
                Run(transaction, "INSERT OR IGNORE INTO repo_digests (repo_digest, image_id) VALUES ($repoDigest, $id)",
                    ("$repoDigest", repoDigest), ("$id", image.Id.ToString()));
        });
    }

    public ImageRecord? Find(string nameOrId)
    {
        if (string.IsNullOrWhiteSpace(nameOrId))
            throw new ArgumentException("an image name or id is empty", nameof(nameOrId));
        lock (gate)
        {
            CheckOpen();
            if (nameOrId.Contains('@'))
                return LoadById(QueryText("""
                    SELECT r.image_id FROM repo_digests r JOIN images i ON i.id = r.image_id
                    WHERE r.repo_digest = $key ORDER BY i.stored DESC LIMIT 1
                    """, ("$key", nameOrId)));
            if (QueryText("SELECT image_id FROM names WHERE name = $key", ("$key", nameOrId)) is { } named)
                return LoadById(named);
            if (Digest.TryParse(nameOrId, out var id))
                return LoadById(id.ToString());
            var hex = nameOrId.StartsWith("sha256:", StringComparison.Ordinal) ? nameOrId["sha256:".Length..] : nameOrId;
            if (!IsIdPrefix(hex))
                return null;
            hex = hex.ToLowerInvariant();
            var matches = new List<Digest>();
            using (var command = Command("SELECT id FROM images WHERE id GLOB $pattern ORDER BY id LIMIT 3", ("$pattern", $"sha256:{hex}*")))
            using (var reader = command.ExecuteReader())
                while (reader.Read())
                    matches.Add(ParseDigest(reader.GetString(0), "images.id"));
            return matches.Count switch
            {
                0 => null,
                1 => LoadById(matches[0].ToString()),
                _ => throw new AmbiguousImageException(nameOrId, matches),
            };
        }
    }

    public ImageRecord? Get(Digest id)
    {
        CheckId(id);
        lock (gate)
        {
            CheckOpen();
            return LoadById(id.ToString());
        }
    }

    /// <summary>Every image, the most recently stored first.</summary>
    public IReadOnlyList<ImageRecord> List()
    {
        lock (gate)
        {
            CheckOpen();
            using var transaction = connection.BeginTransaction(deferred: true);
            var names = Group(transaction, "SELECT image_id, name FROM names ORDER BY name");
            var repoDigests = Group(transaction, "SELECT image_id, repo_digest FROM repo_digests ORDER BY repo_digest");
            var images = new List<ImageRecord>();
            using (var command = Command(SelectImages + " ORDER BY stored DESC, id"))
            {
                command.Transaction = transaction;
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    var key = reader.GetString(0);
                    images.Add(ReadImage(reader, names.GetValueOrDefault(key) ?? [], repoDigests.GetValueOrDefault(key) ?? []));
                }
            }
            transaction.Commit();
            return images;
        }
    }

    public void Tag(Digest id, string fullName)
    {
        CheckId(id);
        CheckName(fullName);
        Write(transaction =>
        {
            RequireImage(transaction, id);
            AttachName(transaction, id, fullName);
        });
    }

    public bool Untag(string fullName)
    {
        if (string.IsNullOrEmpty(fullName))
            throw new ArgumentException("an image name is empty", nameof(fullName));
        var removed = false;
        Write(transaction => removed = Run(transaction, "DELETE FROM names WHERE name = $name", ("$name", fullName)) > 0);
        return removed;
    }

    public void Remove(Digest id)
    {
        CheckId(id);
        Write(transaction =>
        {
            // Children first, explicitly: the cascade needs foreign_keys on, and a connection of another
            // tool (the sqlite3 shell) may have left rows behind without it.
            foreach (var table in (string[])["image_users", "names", "repo_digests"])
                Run(transaction, $"DELETE FROM {table} WHERE image_id = $id", ("$id", id.ToString()));
            Run(transaction, "DELETE FROM images WHERE id = $id", ("$id", id.ToString()));
        });
    }

    public void AddUser(Digest id, string containerId)
    {
        CheckId(id);
        if (string.IsNullOrWhiteSpace(containerId))
            throw new ArgumentException("a container id is empty", nameof(containerId));
        Write(transaction =>
        {
            RequireImage(transaction, id);
            Run(transaction, "INSERT OR IGNORE INTO image_users (image_id, container_id) VALUES ($id, $container)",
                ("$id", id.ToString()), ("$container", containerId));
        });
    }

    public void RemoveUser(string containerId)
    {
        if (string.IsNullOrWhiteSpace(containerId))
            throw new ArgumentException("a container id is empty", nameof(containerId));
        Write(transaction => Run(transaction, "DELETE FROM image_users WHERE container_id = $container", ("$container", containerId)));
    }

    public IReadOnlyList<string> UsersOf(Digest id)
    {
        CheckId(id);
        lock (gate)
        {
            CheckOpen();
            var users = new List<string>();
            using var command = Command("SELECT container_id FROM image_users WHERE image_id = $id ORDER BY container_id", ("$id", id.ToString()));
            using var reader = command.ExecuteReader();
            while (reader.Read())
                users.Add(reader.GetString(0));
            return users;
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            connection.Dispose();
        }
    }

    // --- writing

    /// <summary>One change, one IMMEDIATE transaction: the write lock is taken up front, so two processes queue on busy_timeout instead of failing an upgrade.</summary>
    void Write(Action<SqliteTransaction> change)
    {
        lock (gate)
        {
            CheckOpen();
            try
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                change(transaction);
                BeforeCommit?.Invoke();
                transaction.Commit();
            }
            catch (SqliteException e)
            {
                throw new StorageException($"the image catalogue {DatabasePath} could not be changed: {ErrorText.Reason(e)}", e);
            }
        }
    }

    void AttachName(SqliteTransaction transaction, Digest id, string name) =>
        Run(transaction, """
            INSERT INTO names (name, image_id) VALUES ($name, $id)
            ON CONFLICT (name) DO UPDATE SET image_id = excluded.image_id
            """, ("$name", name), ("$id", id.ToString()));

    void RequireImage(SqliteTransaction transaction, Digest id)
    {
        using var command = Command("SELECT 1 FROM images WHERE id = $id", ("$id", id.ToString()));
        command.Transaction = transaction;
        if (command.ExecuteScalar() is null)
            throw new StorageException($"there is no image {id} in the catalogue");
    }

    int Run(SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        command.Transaction = transaction;
        return command.ExecuteNonQuery();
    }

    // --- reading

    const string SelectImages = "SELECT id, manifest_digest, manifest_media_type, size, created, stored, platform FROM images";

    ImageRecord? LoadById(string? id)
    {
        if (id is null)
            return null;
        using var transaction = connection.BeginTransaction(deferred: true);
        List<string> names = [], repoDigests = [];
        using (var command = Command("SELECT name FROM names WHERE image_id = $id ORDER BY name", ("$id", id)))
        {
            command.Transaction = transaction;
            using var reader = command.ExecuteReader();
            while (reader.Read())
                names.Add(reader.GetString(0));
        }
        using (var command = Command("SELECT repo_digest FROM repo_digests WHERE image_id = $id ORDER BY repo_digest", ("$id", id)))
        {
            command.Transaction = transaction;
            using var reader = command.ExecuteReader();
            while (reader.Read())
                repoDigests.Add(reader.GetString(0));
        }
        ImageRecord? image = null;
        using (var command = Command(SelectImages + " WHERE id = $id", ("$id", id)))
        {
            command.Transaction = transaction;
            using var reader = command.ExecuteReader();
            if (reader.Read())
                image = ReadImage(reader, names, repoDigests);
        }
        transaction.Commit();
        return image;
    }

    Dictionary<string, List<string>> Group(SqliteTransaction transaction, string sql)
    {
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        using var command = Command(sql);
        command.Transaction = transaction;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var key = reader.GetString(0);
            if (!groups.TryGetValue(key, out var list))
                groups[key] = list = [];
            list.Add(reader.GetString(1));
        }
        return groups;
    }

    ImageRecord ReadImage(SqliteDataReader reader, List<string> names, List<string> repoDigests) => new()
    {
        Id = ParseDigest(reader.GetString(0), "images.id"),
        ManifestDigest = ParseDigest(reader.GetString(1), "images.manifest_digest"),
        ManifestMediaType = reader.GetString(2),
        Size = reader.GetInt64(3),
        Created = ParseTime(reader.GetString(4), "images.created"),
        Stored = ParseTime(reader.GetString(5), "images.stored"),
        Platform = reader.GetString(6),
        Names = names,
        RepoDigests = repoDigests,
    };

    string? QueryText(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return command.ExecuteScalar() as string;
    }

    SqliteCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return command;
    }

    void Execute(string sql)
    {
        using var command = Command(sql);
        command.ExecuteNonQuery();
    }

    object? Scalar(string sql)
    {
        using var command = Command(sql);
        return command.ExecuteScalar();
    }

    void CheckOpen() => ObjectDisposedException.ThrowIf(disposed, this);

    // --- values

    static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    DateTimeOffset ParseTime(string text, string column) =>
        DateTimeOffset.TryParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new StorageException($"the image catalogue {DatabasePath} is corrupt: {column} holds '{text}', which is not a time");

    Digest ParseDigest(string text, string column) =>
        Digest.TryParse(text, out var digest)
            ? digest
            : throw new StorageException($"the image catalogue {DatabasePath} is corrupt: {column} holds '{text}', which is not a digest");

    static bool IsIdPrefix(string hex)
    {
        if (hex.Length is < 4 or > 64)
            return false;
        foreach (var c in hex)
            if (!char.IsAsciiHexDigit(c))
                return false;
        return true;
    }

    static void CheckId(Digest id)
    {
        if (id.IsEmpty)
            throw new ArgumentException("an image id is empty", nameof(id));
    }

    /// <summary>A full name: `registry/repository:tag`, no digest, nothing a shell or a table would mangle.</summary>
    internal static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException("an image name is empty", nameof(name));
        if (HasSpaceOrControl(name))
            throw new ArgumentException($"image name '{name}' contains a space or control character", nameof(name));
        if (name.Contains('@'))
            throw new ArgumentException($"'{name}' is a digest reference, not a name with a tag (registry/repository:tag)", nameof(name));
        var slash = name.LastIndexOf('/');
        if (slash <= 0 || name.IndexOf(':', slash) < 0 || name.EndsWith(':'))
            throw new ArgumentException($"'{name}' is not a full image name with registry and tag (registry/repository:tag)", nameof(name));
    }

    internal static void CheckRepoDigest(string repoDigest)
    {
        var at = repoDigest?.IndexOf('@') ?? -1;
        if (repoDigest is null || at <= 0 || HasSpaceOrControl(repoDigest) || !Digest.TryParse(repoDigest[(at + 1)..], out _))
            throw new ArgumentException($"'{repoDigest}' is not a repo digest (registry/repository@sha256:<hex>)", nameof(repoDigest));
    }

    static bool HasSpaceOrControl(string text)
    {
        foreach (var c in text)
            if (char.IsWhiteSpace(c) || char.IsControl(c))
                return true;
        return false;
    }
}
