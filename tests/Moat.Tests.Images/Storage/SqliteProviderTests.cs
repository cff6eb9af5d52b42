using Microsoft.Data.Sqlite;
using Moat.Images.Storage;
using Xunit;

namespace Moat.Tests.Images.Storage;

public sealed class SqliteProviderTests : IDisposable
{
    readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>
    /// The kept WAL is what every command's first connection reads through (SqliteProvider.KeepWriteAheadLog):
    /// however many small transactions connections made, it holds at most about one automatic checkpoint's worth
    /// of pages, not SQLite's default thousand, and it outlives the connections.
    /// </summary>
    [Fact]
    public void TheKeptWriteAheadLogStaysShortAcrossManyConnections()
    {
        SqliteProvider.EnsureInitialized();
        var path = temp.Combine("test.db");
        for (var process = 0; process < 20; process++)
        {
            using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
            connection.Open();
            Execute(connection, "PRAGMA journal_mode = WAL");
            Execute(connection, "PRAGMA synchronous = NORMAL");
            SqliteProvider.KeepWriteAheadLog(connection);
            Execute(connection, "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
            for (var i = 0; i < 30; i++)
                Execute(connection, $"INSERT INTO t (v) VALUES ('{new string('x', 3000)}')");
        }
        var wal = new FileInfo(path + "-wal");
        Assert.True(wal.Exists, "the WAL was deleted at the last close");
        const int frame = 4096 + 24, header = 32;
        // 600 pages were written; a log restarted every 64 pages never grew past 64 frames and one transaction's.
        Assert.True(wal.Length <= header + (SqliteProvider.AutoCheckpointPages + 8) * frame, $"the WAL is {wal.Length} bytes");
    }

    /// <summary>
    /// The last close leaves the commits in the kept WAL (no checkpoint and its two syncs): the database file alone,
    /// copied without its WAL, does not have them yet; with the WAL beside it, it does.
    /// </summary>
    [Fact]
    public void TheLastCloseDoesNotCheckpoint()
    {
        SqliteProvider.EnsureInitialized();
        var path = temp.Combine("test.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode = WAL");
            SqliteProvider.KeepWriteAheadLog(connection);
            Execute(connection, "CREATE TABLE t (v TEXT)");
            Execute(connection, "INSERT INTO t (v) VALUES ('kept')");
        }
        File.Copy(path, temp.Combine("alone.db"));
        Assert.Equal(0L, Count(temp.Combine("alone.db")));
        File.Copy(path + "-wal", temp.Combine("alone.db-wal"));
        Assert.Equal(1L, Count(temp.Combine("alone.db")));
    }

    static long Count(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 't'";
        if ((long)command.ExecuteScalar()! == 0)
            return 0;
        command.CommandText = "SELECT count(*) FROM t";
        return (long)command.ExecuteScalar()!;
    }

    static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
