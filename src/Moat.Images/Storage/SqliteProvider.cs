namespace Moat.Images.Storage;

/// <summary>
/// Points SQLitePCLRaw at the system's libsqlite3 (no bundled copy, no reflection-based bundle lookup).
/// Once per process: the provider is a global of SQLitePCL.
/// </summary>
internal static class SqliteProvider
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
            SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());
            Volatile.Write(ref initialized, true);
        }
    }
}
