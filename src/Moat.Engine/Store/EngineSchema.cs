using Microsoft.Data.Sqlite;

namespace Moat.Engine.Store;

/// <summary>
/// The engine's tables in images.db, as numbered migrations tracked in a table of their own
/// (`engine_schema`), so the images' `PRAGMA user_version` stays theirs alone. A released step is never edited.
/// </summary>
internal static class EngineSchema
{
    static readonly string[] Migrations =
    [
        // 1: containers and volumes. Times are ISO-8601 UTC text; settings is the engine's JSON
        // (ContainerSettings) of what run/create asked; names are unique here, and only here.
        """
        CREATE TABLE containers (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL UNIQUE,
            image_id TEXT NOT NULL,
            image_name TEXT NOT NULL,
            created TEXT NOT NULL,
            state TEXT NOT NULL,
            pid INTEGER NOT NULL DEFAULT 0,
            monitor_pid INTEGER NOT NULL DEFAULT 0,
            monitor_start_time INTEGER NOT NULL DEFAULT 0,
            started_at TEXT,
            finished_at TEXT,
            exit_code INTEGER NOT NULL DEFAULT 0,
            restart_count INTEGER NOT NULL DEFAULT 0,
            health TEXT,
            oom_killed INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            runtime TEXT NOT NULL,
            isolation TEXT NOT NULL,
            settings TEXT NOT NULL
        );
        CREATE TABLE volumes (
            name TEXT PRIMARY KEY NOT NULL,
            created TEXT NOT NULL,
            anonymous INTEGER NOT NULL DEFAULT 0,
            labels TEXT NOT NULL DEFAULT '{}'
        );
        """,
        // 2: networks (Moat.Network): a network per row; an endpoint per container and network, whose
        // UNIQUE (network, address) is what makes an address taken; per-container namespace, ports, egress.
        """
        CREATE TABLE networks (
            name TEXT PRIMARY KEY NOT NULL,
            id TEXT NOT NULL UNIQUE,
            bridge TEXT NOT NULL UNIQUE,
            subnet TEXT NOT NULL,
            gateway TEXT NOT NULL,
            subnet6 TEXT,
            gateway6 TEXT,
            internal INTEGER NOT NULL DEFAULT 0,
            labels TEXT NOT NULL DEFAULT '{}',
            created TEXT NOT NULL
        );
        CREATE TABLE network_endpoints (
            network TEXT NOT NULL,
            container TEXT NOT NULL,
            container_name TEXT NOT NULL,
            hostname TEXT NOT NULL,
            interface TEXT NOT NULL,
            host_interface TEXT NOT NULL UNIQUE,
            address TEXT NOT NULL,
            address6 TEXT,
            mac TEXT NOT NULL,
            PRIMARY KEY (network, container),
            UNIQUE (network, address),
            UNIQUE (network, address6)
        );
        CREATE TABLE container_networks (
            container TEXT PRIMARY KEY NOT NULL,
            namespace TEXT,
            shared_with TEXT,
            files TEXT NOT NULL,
            ports TEXT NOT NULL DEFAULT '[]',
            egress TEXT
        );
        """,
    ];

    public static int LatestVersion => Migrations.Length;

    public static void Migrate(SqliteConnection connection, string path)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS engine_schema (version INTEGER NOT NULL)";
            create.ExecuteNonQuery();
        }
        if (VersionOf(connection, null) == LatestVersion)
            return;
        // IMMEDIATE: the write lock first, then the version read again under it (a second opener finds the work done).
        using var transaction = connection.BeginTransaction(deferred: false);
        var version = VersionOf(connection, transaction);
        if (version > LatestVersion)
            throw new EngineException($"{path} has engine schema version {version}, newer than this Moat knows ({LatestVersion}): use a newer Moat, or another --root");
        for (; version < LatestVersion; version++)
        {
            using var step = connection.CreateCommand();
            step.Transaction = transaction;
            step.CommandText = Migrations[version];
            step.ExecuteNonQuery();
        }
        using (var set = connection.CreateCommand())
        {
            set.Transaction = transaction;
            set.CommandText = $"DELETE FROM engine_schema; INSERT INTO engine_schema (version) VALUES ({LatestVersion})";
            set.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    static int VersionOf(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT MAX(version) FROM engine_schema";
        return command.ExecuteScalar() is long v ? (int)v : 0;
    }
}
