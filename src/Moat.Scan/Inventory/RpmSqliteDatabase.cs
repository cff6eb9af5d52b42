using Microsoft.Data.Sqlite;
using Moat.Images.Storage;
using Moat.Interop;

namespace Moat.Scan.Inventory;

/// <summary>
/// rpm's sqlite backend (rpmdb.sqlite, Fedora 33+ and RHEL 9): the Packages table holds one header blob
/// per installed package. The file is read through an already opened descriptor, read-only and immutable
/// (no journal, no locks, nothing written into the image).
/// </summary>
public static class RpmSqliteDatabase
{
    public static List<InstalledPackage> Read(FileDescriptor file, string database)
    {
        SqliteProvider.EnsureInitialized();
        var packages = new List<InstalledPackage>();
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = $"file:/proc/self/fd/{file.Fd}?immutable=1",
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        };
        try
        {
            using var connection = new SqliteConnection(builder.ConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT hnum, blob FROM Packages ORDER BY hnum";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var number = reader.GetInt64(0);
                var blob = (byte[])reader.GetValue(1);
                var what = $"{database} package {number}";
                if (RpmHeader.Parse(blob, what).ToPackage(database, what) is { } package)
                    packages.Add(package);
            }
        }
        catch (SqliteException e)
        {
            throw new ScanException($"the rpm database {database} cannot be read as sqlite: {e.Message}", e);
        }
        return packages;
    }
}
