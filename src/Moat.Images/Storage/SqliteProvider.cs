using System.Reflection;
using System.Runtime.InteropServices;

namespace Moat.Images.Storage;

/// <summary>
/// Points SQLitePCLRaw at the system's libsqlite3 (no bundled copy, no reflection-based bundle lookup).
/// Once per process: the provider is a global of SQLitePCL.
/// </summary>
public static class SqliteProvider
{
    static readonly Lock Gate = new();
    static bool initialized;

    public static void EnsureInitialized()
    {
        if (Volatile.Read(ref initialized))
            return;
        lock (Gate)
        {
            if (initialized)
                return;
            // The provider imports "sqlite3", which the loader finds as libsqlite3.so: that name comes only
            // with the -dev package. The runtime package (Debian's libsqlite3-0) has the versioned soname.
            NativeLibrary.SetDllImportResolver(typeof(SQLitePCL.SQLite3Provider_sqlite3).Assembly, ResolveSqlite);
            SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());
            Volatile.Write(ref initialized, true);
        }
    }

    /// <summary>
    /// Keeps the database's -wal file after the last connection closes (SQLITE_FCNTL_PERSIST_WAL). Each `moat`
    /// is a short process whose connections are the last ones: without this every command deleted the WAL at
    /// exit and the next created it again, and SQLite syncs the directory after creating it. On a disk mounted
    /// with discard the deletion alone cost milliseconds. The kept WAL is checkpointed and reused (its header
    /// salt changes, so old frames are never read as new ones).
    /// But a process's first connection rebuilds the WAL's index by reading every frame written since the log
    /// last restarted, and the log restarts only after an automatic checkpoint (a close's checkpoint does not
    /// restart it): at SQLite's default of 1000 pages that was 800 reads of 4 KB and 3 ms of every `moat ps`
    /// (2026-12-03). A checkpoint every 64 pages keeps that read short; each costs the two syncs a close's
    /// checkpoint costs anyway, about once in three `run --rm` (~20 pages each).
    /// </summary>
    public static void KeepWriteAheadLog(Microsoft.Data.Sqlite.SqliteConnection connection)
    {
        var result = Moat.Interop.Libsqlite3.PersistWriteAheadLog(connection.Handle!.DangerousGetHandle());
        if (result != 0)
            throw new InvalidOperationException($"sqlite3_file_control(SQLITE_FCNTL_PERSIST_WAL) answered {result}");
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_autocheckpoint = {AutoCheckpointPages}";
        command.ExecuteNonQuery();
        // No checkpoint when the last connection closes: it synced the WAL and the database file (two
        // fdatasyncs at the end of every command) for what the automatic checkpoint does every 64 pages anyway.
        // A commit's durability is then its connection's synchronous setting alone: FULL commits are synced
        // as they happen; NORMAL ones (the container records) at the next checkpoint, or after a power cut not
        // at all, as docs/engine.md "Crash safety" says.
        result = SQLitePCL.raw.sqlite3_db_config(connection.Handle!, SqliteNoCheckpointOnClose, 1, out _);
        if (result != 0)
            throw new InvalidOperationException($"sqlite3_db_config(SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE) answered {result}");
    }

    /// <summary>SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE (sqlite3.h).</summary>
    const int SqliteNoCheckpointOnClose = 1006;

    /// <summary>See <see cref="KeepWriteAheadLog"/>.</summary>
    public const int AutoCheckpointPages = 64;

    static nint ResolveSqlite(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == "sqlite3" && NativeLibrary.TryLoad("libsqlite3.so.0", out var handle) ? handle : 0;
}
