using System.Text;
using Moat.Images.Service;

namespace Moat.Scan.Inventory;

/// <summary>What an image holds: its distribution and its OS packages, read from the package managers' databases.</summary>
public sealed record ImageInventory(OsRelease? Os, IReadOnlyList<InstalledPackage> Packages, IReadOnlyList<string> Databases)
{
    /// <summary>Where each package manager keeps its database, as paths in the image.</summary>
    public const string DpkgStatusPath = "/var/lib/dpkg/status", DpkgStatusDirectory = "/var/lib/dpkg/status.d",
        ApkInstalledPath = "/lib/apk/db/installed", RpmSqlitePath = "/var/lib/rpm/rpmdb.sqlite",
        RpmSqliteSysimagePath = "/usr/lib/sysimage/rpm/rpmdb.sqlite", RpmBerkeleyPath = "/var/lib/rpm/Packages",
        RpmBerkeleySysimagePath = "/usr/lib/sysimage/rpm/Packages";

    /// <summary>Reads the inventory of an image's merged tree (nothing is run, nothing is mounted).</summary>
    public static ImageInventory Read(ImageFiles files, bool dpkgLicenses = true)
    {
        var os = ReadOsRelease(files);
        var packages = new List<InstalledPackage>();
        var databases = new List<string>();

        if (files.ReadFile(DpkgStatusPath) is { } status)
        {
            databases.Add(DpkgStatusPath);
            packages.AddRange(DpkgStatus.Parse(Encoding.UTF8.GetString(status), DpkgStatusPath));
        }
        // Distroless images have no status file but one paragraph per package here.
        if (files.ListDirectory(DpkgStatusDirectory) is { } entries)
            foreach (var entry in entries)
            {
                if (entry.StartsWith('.') || entry.EndsWith(".md5sums", StringComparison.Ordinal))
                    continue;
                var path = DpkgStatusDirectory + "/" + entry;
                if (files.ReadFile(path) is not { } paragraph)
                    continue;
                databases.Add(path);
                packages.AddRange(DpkgStatus.Parse(Encoding.UTF8.GetString(paragraph), path, requireStatus: false));
            }
        if (dpkgLicenses)
            for (var i = 0; i < packages.Count; i++)
                if (packages[i].Kind == PackageKind.Deb && TryReadCopyright(files, packages[i].Name) is { } license)
                    packages[i] = packages[i] with { License = license };

        if (files.ReadFile(ApkInstalledPath) is { } apk)
        {
            databases.Add(ApkInstalledPath);
            packages.AddRange(ApkInstalled.Parse(Encoding.UTF8.GetString(apk), ApkInstalledPath));
        }

        // rpm: the sqlite database where there is one (the two paths are often the same file through a symlink), else Berkeley DB.
        var rpmFound = false;
        foreach (var path in new[] { RpmSqliteSysimagePath, RpmSqlitePath })
        {
            using var file = files.OpenFile(path);
            if (file is null)
                continue;
            databases.Add(path);
            packages.AddRange(RpmSqliteDatabase.Read(file, path));
            rpmFound = true;
            break;
        }
        if (!rpmFound)
            foreach (var path in new[] { RpmBerkeleySysimagePath, RpmBerkeleyPath })
            {
                if (files.ReadFile(path) is not { } bdb)
                    continue;
                databases.Add(path);
                packages.AddRange(BerkeleyHashDatabase.ReadRpmPackages(bdb, path));
                break;
            }

        packages.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is var byName and not 0 ? byName : string.CompareOrdinal(a.Architecture, b.Architecture));
        return new ImageInventory(os, packages, databases);
    }

    static OsRelease? ReadOsRelease(ImageFiles files)
    {
        foreach (var path in new[] { "/etc/os-release", "/usr/lib/os-release" })
            if (files.ReadFile(path) is { } text)
                return OsRelease.Parse(Encoding.UTF8.GetString(text));
        return null;
    }

    static string? TryReadCopyright(ImageFiles files, string package)
    {
        try
        {
            return files.ReadFile($"/usr/share/doc/{package}/copyright") is { } bytes ? DpkgStatus.LicenseOf(Encoding.UTF8.GetString(bytes)) : null;
        }
        catch (Moat.Images.Storage.StorageException)
        {
            return null; // the licence is optional: a copyright path that is a directory or too large says nothing
        }
    }
}
