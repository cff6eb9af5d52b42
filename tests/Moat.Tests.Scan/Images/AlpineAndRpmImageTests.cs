using Microsoft.Data.Sqlite;
using Moat.Images.Service;
using Moat.Scan.Inventory;
using Moat.Scan.Matching;
using Moat.Scan.Osv;
using Moat.Tests.Scan.Inventory;
using Moat.Tests.Scan.Osv;

namespace Moat.Tests.Scan.Images;

/// <summary>Alpine's installed database and rpm's sqlite and Berkeley DB databases, in their real formats, inside imported images.</summary>
public sealed class AlpineAndRpmImageTests : IDisposable
{
    readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    const string ApkInstalled = """
        C:Q1SJ5ZyqadDjWRAgB9nzq8QxJUdZs=
        P:musl
        V:1.2.4_git20230717-r4
        A:x86_64
        S:407278
        I:663552
        T:the musl c library (libc) implementation
        U:https://musl.libc.org/
        L:MIT
        o:musl
        m:Timo Teräs <timo.teras@iki.fi>
        t:1705329435
        c:3c2d7c6f1d1c3d5a8bc2e9f2f1e3b0c5f6b3f0a1
        p:so:libc.musl-x86_64.so.1=1
        F:lib
        R:ld-musl-x86_64.so.1
        a:0:0:755
        Z:Q1Bh4ZWnr52j0eMyDcDgRnJbFbNYY=

        C:Q1m3uFjNMDk1wY3J3jD3gW3r5dQ8o=
        P:libcrypto3
        V:3.1.4-r5
        A:x86_64
        S:1800000
        I:4300000
        T:Crypto library from openssl
        U:https://www.openssl.org/
        L:Apache-2.0
        o:openssl
        m:Ariadne Conill <ariadne@dereferenced.org>
        t:1706000000
        c:0123456789abcdef0123456789abcdef01234567

        C:Q1zzuFjNMDk1wY3J3jD3gW3r5dQ8o=
        P:busybox
        V:1.36.1-r15
        A:x86_64
        L:GPL-2.0-only
        o:busybox

        """;

    [Fact]
    public void AlpinePackagesAreListedByOriginAndMatchedWithApkOrder()
    {
        var rootfs = store.NewRootfs("alpine-rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "lib/apk/db"));
        File.WriteAllText(Path.Combine(rootfs, "lib/apk/db/installed"), ApkInstalled);
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        File.WriteAllText(Path.Combine(rootfs, "etc/os-release"), "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n");
        var image = store.Import(rootfs, "alpine-test:1");

        var osv = store.NewRootfs("alpine-osv");
        // openssl 3.1.4-r5 < 3.1.4-r6 (revision) : affected, found through libcrypto3's origin.
        File.WriteAllText(Path.Combine(osv, "CVE-2099-1000.json"), OsvWriter.Record("ALPINE-CVE-2099-1000",
            [new("Alpine:v3.19", "openssl", Fixed: "3.1.4-r6")], cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"));
        // musl's _git suffix is a post-release: 1.2.4_git20230717-r4 sorts after 1.2.4-r0, so it is fixed.
        File.WriteAllText(Path.Combine(osv, "CVE-2099-1001.json"), OsvWriter.Record("ALPINE-CVE-2099-1001",
            [new("Alpine:v3.19", "musl", Fixed: "1.2.4-r0")], severity: "high"));
        // busybox fixed in a pre-release of a later version: 1.36.1-r15 < 1.37.0_rc1: affected.
        File.WriteAllText(Path.Combine(osv, "CVE-2099-1002.json"), OsvWriter.Record("ALPINE-CVE-2099-1002",
            [new("Alpine:v3.19", "busybox", Fixed: "1.37.0_rc1")], severity: "medium"));
        // Another Alpine release: not matched.
        File.WriteAllText(Path.Combine(osv, "CVE-2099-1003.json"), OsvWriter.Record("ALPINE-CVE-2099-1003",
            [new("Alpine:v3.18", "busybox")], severity: "critical"));
        Assert.Equal(0, store.Moat("scan", "db", "import", osv).Exit);

        using var images = store.Open();
        using var files = ImageFiles.Open(images, image);
        var inventory = ImageInventory.Read(files);
        Assert.Equal(["busybox", "libcrypto3", "musl"], inventory.Packages.Select(p => p.Name).ToArray());
        var crypto = inventory.Packages.Single(p => p.Name == "libcrypto3");
        Assert.Equal(("openssl", "Apache-2.0", "x86_64", PackageKind.Apk), (crypto.SourceName, crypto.License, crypto.Architecture, crypto.Kind));
        using var database = VulnerabilityDatabase.Open(VulnerabilityDatabase.PathIn(images.Layout), writable: false);
        var result = Scanner.Scan(inventory, database);
        Assert.Equal("Alpine:v3.19", result.Ecosystem);
        Assert.Equal(["ALPINE-CVE-2099-1000", "ALPINE-CVE-2099-1002"], result.Findings.Select(f => f.Id).ToArray());
        Assert.Equal(Severity.High, result.Findings[0].Severity);   // 7.5
        Assert.Equal("3.1.4-r6", result.Findings[0].FixedIn);

        var cyclone = store.Moat("sbom", "alpine-test:1", "--format", "cyclonedx");
        Assert.Contains("pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1", cyclone.Output);
    }

    static readonly (string Name, string Version, string Release, int? Epoch, string License, string SourceRpm)[] RpmPackages =
    [
        ("openssl-libs", "3.0.7", "27.el9", 1, "ASL 2.0", "openssl-3.0.7-27.el9.src.rpm"),
        ("bash", "5.1.8", "9.el9", null, "GPLv3+", "bash-5.1.8-9.el9.src.rpm"),
        ("glibc-minimal-langpack", "2.34", "100.el9", null, "LGPLv2+ and GPLv2+", "glibc-2.34-100.el9.src.rpm"),
    ];

    string RpmRootfs(string name)
    {
        var rootfs = store.NewRootfs(name);
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        File.WriteAllText(Path.Combine(rootfs, "etc/os-release"), "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 9.4 (Plow)\"\n");
        return rootfs;
    }

    string RpmOsv()
    {
        var osv = store.NewRootfs("rpm-osv-" + Guid.NewGuid().ToString("N")[..6]);
        File.WriteAllText(Path.Combine(osv, "RHSA-2099-0001.json"), OsvWriter.Record("RHSA-2099:0001",
            [new("Red Hat:enterprise_linux:9::baseos", "openssl-libs", Fixed: "1:3.0.7-28.el9_4")], severity: "important"));
        File.WriteAllText(Path.Combine(osv, "RHSA-2099-0002.json"), OsvWriter.Record("RHSA-2099:0002",
            [new("Red Hat:enterprise_linux:9::baseos", "bash", Fixed: "5.1.8-6.el9")], severity: "moderate"));
        File.WriteAllText(Path.Combine(osv, "RHSA-2099-0003.json"), OsvWriter.Record("RHSA-2099:0003",
            [new("Red Hat:enterprise_linux:8::baseos", "bash")], severity: "critical"));
        return osv;
    }

    void AssertRpmInventoryAndScan(Moat.Images.Storage.ImageRecord image, string database)
    {
        Assert.Equal(0, store.Moat("scan", "db", "import", RpmOsv()).Exit);
        using var images = store.Open();
        using var files = ImageFiles.Open(images, image);
        var inventory = ImageInventory.Read(files);
        Assert.Equal(["bash", "glibc-minimal-langpack", "openssl-libs"], inventory.Packages.Select(p => p.Name).ToArray());
        var ssl = inventory.Packages.Single(p => p.Name == "openssl-libs");
        Assert.Equal(("1:3.0.7-27.el9", "openssl", "ASL 2.0", "x86_64", database), (ssl.Version, ssl.SourceName, ssl.License, ssl.Architecture, ssl.Database));
        Assert.Equal("glibc", inventory.Packages.Single(p => p.Name.StartsWith("glibc")).SourceName);
        using var vulnerabilities = VulnerabilityDatabase.Open(VulnerabilityDatabase.PathIn(images.Layout), writable: false);
        var result = Scanner.Scan(inventory, vulnerabilities);
        Assert.Equal("Red Hat:9", result.Ecosystem);
        var finding = Assert.Single(result.Findings);
        Assert.Equal(("RHSA-2099:0001", Severity.High, "1:3.0.7-28.el9_4"), (finding.Id, finding.Severity, finding.FixedIn));
        var cyclone = store.Moat("sbom", image.Names[0], "--format", "cyclonedx");
        Assert.Contains("pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1", cyclone.Output);
    }

    [Fact]
    public void RpmSqliteDatabaseHeadersAreReadAndMatched()
    {
        var rootfs = RpmRootfs("rpm-sqlite-rootfs");
        var directory = Path.Combine(rootfs, "usr/lib/sysimage/rpm");
        Directory.CreateDirectory(directory);
        // rpm's sqlite schema (lib/backend/sqlite.c): Packages (hnum, blob) plus index tables.
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "rpmdb.sqlite")};Pooling=False"))
        {
            Moat.Images.Storage.SqliteProvider.EnsureInitialized();
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = """
                CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
                CREATE TABLE 'Name' (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum));
                """;
            create.ExecuteNonQuery();
            foreach (var p in RpmPackages.Append(("gpg-pubkey", "fd431d51", "4ae0493b", null, "pubkey", null!)))
            {
                using var insert = connection.CreateCommand();
                insert.CommandText = "INSERT INTO Packages (blob) VALUES ($blob)";
                insert.Parameters.AddWithValue("$blob", RpmHeaderBuilder.Build(p.Item1, p.Item2, p.Item3, p.Item4, p.Item1 == "gpg-pubkey" ? "(none)" : "x86_64", p.Item5, p.Item6));
                insert.ExecuteNonQuery();
            }
        }
        // RHEL 9 keeps the database in /usr/lib/sysimage/rpm with /var/lib/rpm a symlink to it.
        Directory.CreateDirectory(Path.Combine(rootfs, "var/lib"));
        File.CreateSymbolicLink(Path.Combine(rootfs, "var/lib/rpm"), "../../usr/lib/sysimage/rpm");
        AssertRpmInventoryAndScan(store.Import(rootfs, "rhel-sqlite:1"), "/usr/lib/sysimage/rpm/rpmdb.sqlite");
    }

    [Fact]
    public void RpmBerkeleyDatabaseHeadersAreReadAndMatched()
    {
        var rootfs = RpmRootfs("rpm-bdb-rootfs");
        Directory.CreateDirectory(Path.Combine(rootfs, "var/lib/rpm"));
        var records = new List<(uint, byte[])> { (0, [5, 0, 0, 0]) };   // rpm's instance counter under key 0
        uint key = 1;
        foreach (var p in RpmPackages)
        {
            var blob = RpmHeaderBuilder.Build(p.Name, p.Version, p.Release, p.Epoch, "x86_64", p.License, p.SourceRpm);
            // One header large enough for a chain of overflow pages, as real headers (file lists) are.
            if (p.Name == "bash")
                blob = Pad(blob);
            records.Add((key++, blob));
        }
        File.WriteAllBytes(Path.Combine(rootfs, "var/lib/rpm/Packages"), BerkeleyHashBuilder.Build(records));
        AssertRpmInventoryAndScan(store.Import(rootfs, "rhel-bdb:1"), "/var/lib/rpm/Packages");
    }

    /// <summary>A header grown past two pages by unread trailing data (the data store may hold more than the index uses).</summary>
    static byte[] Pad(byte[] blob)
    {
        var dataLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(blob.AsSpan(4));
        var padded = new byte[blob.Length + 9000];
        blob.CopyTo(padded, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(padded.AsSpan(4), dataLength + 9000);
        return padded;
    }

    [Fact]
    public void MalformedDatabasesAreRefusedWithASentence()
    {
        var e = Assert.Throws<Moat.Scan.ScanException>(() => RpmHeader.Parse(new byte[] { 0, 0, 0, 50, 0, 0, 0, 10 }, "test blob"));
        Assert.Contains("truncated", e.Message);
        var bdb = Assert.Throws<Moat.Scan.ScanException>(() => BerkeleyHashDatabase.ReadAll(new byte[4096], "test Packages"));
        Assert.Contains("not a Berkeley DB hash database", bdb.Message);
        var looped = BerkeleyHashBuilder.Build([(1, new byte[5000])]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(looped.AsSpan(2 * 4096 + 16), 2);   // page 2 points to itself
        Assert.Contains("loop", Assert.Throws<Moat.Scan.ScanException>(() => BerkeleyHashDatabase.ReadAll(looped, "test Packages")).Message);
    }
}
