using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// The one call of the system's libsqlite3.so.0 that SQLitePCLRaw does not wrap: sqlite3_file_control, for
/// SQLITE_FCNTL_PERSIST_WAL. The connection itself is SQLitePCLRaw's (the same library, loaded once).
/// </summary>
public static unsafe partial class Libsqlite3
{
    const string Library = "libsqlite3.so.0";

    /// <summary>SQLITE_FCNTL_PERSIST_WAL: keep the -wal file when the last connection closes.</summary>
    public const int SQLITE_FCNTL_PERSIST_WAL = 10;

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int sqlite3_file_control(nint db, string databaseName, int op, int* argument);

    /// <summary>
    /// Asks the "main" database of an open connection (a sqlite3* handle) to keep its write-ahead log file when
    /// the last connection closes; returns SQLite's result code (0: done).
    /// </summary>
    public static int PersistWriteAheadLog(nint db)
    {
        var on = 1;
        return sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
    }
}
