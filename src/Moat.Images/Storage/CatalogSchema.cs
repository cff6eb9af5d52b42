using Microsoft.Data.Sqlite;

namespace Moat.Images.Storage;

/// <summary>
/// The catalogue's schema, as numbered migrations: the database's `PRAGMA user_version` says how many
/// have run. A new version appends a step; a step is never edited once released.
/// </summary>
internal static class CatalogSchema
{
    static readonly string[] Migrations =
    [
        // 1: images, their names, repo digests and the containers that use them. Ids and digests are
        // `algorithm:hex` text; times are ISO-8601 UTC text (sortable, readable in the sqlite3 shell).
        // No STRICT tables: they need SQLite 3.37, and the system library may be older.
        """
        CREATE TABLE images (
            id TEXT PRIMARY KEY NOT NULL,
            manifest_digest TEXT NOT NULL,
            manifest_media_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            created TEXT NOT NULL,
            stored TEXT NOT NULL,
            platform TEXT NOT NULL
        );
        CREATE TABLE names (
            name TEXT PRIMARY KEY NOT NULL,
            image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
        );
        CREATE INDEX names_by_image ON names(image_id);
        CREATE TABLE repo_digests (
            repo_digest TEXT NOT NULL,
            image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
            PRIMARY KEY (repo_digest, image_id)
        );
        CREATE INDEX repo_digests_by_image ON repo_digests(image_id);
        CREATE TABLE image_users (
            image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
            container_id TEXT NOT NULL,
            PRIMARY KEY (image_id, container_id)
        );
        CREATE INDEX image_users_by_container ON image_users(container_id);
        """,
    ];

    public static int LatestVersion => Migrations.Length;

    /// <summary>Brings the database to <see cref="LatestVersion"/>; two processes opening a new file at once both end up right.</summary>
    public static void Migrate(SqliteConnection connection, string path)
    {
        if (VersionOf(connection) == LatestVersion)
            return;
        // IMMEDIATE takes the write lock first and the version is read again under it: whoever came
        // second finds the work done.
        using var transaction = connection.BeginTransaction(deferred: false);
        var version = VersionOf(connection, transaction);
        if (version > LatestVersion)
            throw new StorageException($"{path} has catalogue schema version {version}, newer than this Moat knows ({LatestVersion}): use a newer Moat, or another --root");
        for (; version < LatestVersion; version++)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Migrations[version];
            command.ExecuteNonQuery();
        }
        using (var setVersion = connection.CreateCommand())
        {
            setVersion.Transaction = transaction;
            setVersion.CommandText = $"PRAGMA user_version = {LatestVersion}";
            setVersion.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    static int VersionOf(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "PRAGMA user_version";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
