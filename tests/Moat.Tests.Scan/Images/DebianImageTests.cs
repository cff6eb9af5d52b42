using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Moat.Images.Service;
using Moat.Scan.Inventory;
using Moat.Scan.Matching;
using Moat.Scan.Osv;
using Moat.Tests.Scan.Osv;

namespace Moat.Tests.Scan.Images;

/// <summary>
/// A Debian image built from real .deb packages (apt-get download from the configured apt source, unpacked
/// with dpkg-deb, a status database from their control files), imported into a store, listed and scanned
/// against OSV records written for the packages and versions it really holds.
/// </summary>
public sealed class DebianImageTests : IDisposable
{
    static readonly string[] Packages = ["base-files", "hostname", "libattr1", "sed"];
    readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    /// <summary>The image; the installed version of each package by name.</summary>
    (Moat.Images.Storage.ImageRecord Image, Dictionary<string, string> Versions) BuildImage()
    {
        var debs = store.NewRootfs("debs");
        TestStore.RunIn(debs, "apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", Packages[0], Packages[1], Packages[2], Packages[3]);
        var rootfs = store.NewRootfs("debian-rootfs");
        var status = new StringBuilder();
        var versions = new Dictionary<string, string>();
        foreach (var deb in Directory.GetFiles(debs, "*.deb").Order(StringComparer.Ordinal))
        {
            TestStore.Run("dpkg-deb", "-x", deb, rootfs);
            var control = TestStore.Run("dpkg-deb", "-f", deb).TrimEnd('\n');
            var lines = control.Split('\n').ToList();
            lines.Insert(1, "Status: install ok installed");
            status.Append(string.Join('\n', lines)).Append("\n\n");
            versions[TestStore.Run("dpkg-deb", "-f", deb, "Package").Trim()] = TestStore.Run("dpkg-deb", "-f", deb, "Version").Trim();
        }
        Directory.CreateDirectory(Path.Combine(rootfs, "var/lib/dpkg"));
        File.WriteAllText(Path.Combine(rootfs, "var/lib/dpkg/status"), status.ToString());
        // A package that was removed but left its configuration: not installed, so neither listed nor matched.
        File.AppendAllText(Path.Combine(rootfs, "var/lib/dpkg/status"), "Package: removed-tool\nStatus: deinstall ok config-files\nVersion: 1.0-1\nArchitecture: amd64\n\n");
        Assert.Equal(4, versions.Count);
        return (store.Import(rootfs, "debian-test:1"), versions);
    }

    string WriteOsv(Dictionary<string, string> versions)
    {
        var osv = store.NewRootfs("osv");
        var attr = versions["libattr1"];
        // libattr1 is built from "attr": Debian's records name the source package.
        File.WriteAllText(Path.Combine(osv, "DSA-9001-1.json"), OsvWriter.Record("DSA-9001-1",
            [new("Debian:12", "attr", Fixed: attr + "+fix1")], summary: "attr: test flaw with a fix", cvss: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", aliases: ["CVE-2099-0001"]));
        // Fixed before the installed sed: not affected.
        File.WriteAllText(Path.Combine(osv, "DSA-9002-1.json"), OsvWriter.Record("DSA-9002-1",
            [new("Debian:12", "sed", Fixed: "4.8-1")], summary: "sed: fixed long ago", severity: "high"));
        // hostname: affected up to and including its version, no fix yet.
        File.WriteAllText(Path.Combine(osv, "DEBIAN-CVE-2099-0003.json"), OsvWriter.Record("DEBIAN-CVE-2099-0003",
            [new("Debian:12", "hostname", LastAffected: versions["hostname"])], summary: "hostname: unfixed", severity: "low"));
        // base-files: named by an explicit version list.
        File.WriteAllText(Path.Combine(osv, "DEBIAN-CVE-2099-0004.json"), OsvWriter.Record("DEBIAN-CVE-2099-0004",
            [new("Debian:12", "base-files", Introduced: null, Versions: [versions["base-files"]])], summary: "base-files: listed version", cvss: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"));
        // Withdrawn: would match sed, must not.
        File.WriteAllText(Path.Combine(osv, "DSA-9005-1.json"), OsvWriter.Record("DSA-9005-1",
            [new("Debian:12", "sed")], summary: "withdrawn", withdrawn: true));
        // Another release's record: would match hostname's every version, must not.
        File.WriteAllText(Path.Combine(osv, "DSA-9006-1.json"), OsvWriter.Record("DSA-9006-1",
            [new("Debian:11", "hostname")], summary: "bullseye only", severity: "critical"));
        // An npm record in the same directory: another ecosystem, skipped.
        File.WriteAllText(Path.Combine(osv, "GHSA-test.json"), OsvWriter.Record("GHSA-xxxx-yyyy-zzzz", [new("npm", "left-pad")]));
        return osv;
    }

    [Fact]
    public void ListsTheRealPackagesAndFindsTheRecordsWrittenForThem()
    {
        var (image, versions) = BuildImage();

        using (var images = store.Open())
        using (var files = ImageFiles.Open(images, image))
        {
            var inventory = ImageInventory.Read(files);
            Assert.Equal("debian", inventory.Os!.Id);
            Assert.Equal("12", inventory.Os.VersionId);   // /etc/os-release is a symlink into /usr/lib in base-files
            Assert.Equal(Packages, inventory.Packages.Select(p => p.Name).ToArray());
            var libattr = inventory.Packages.Single(p => p.Name == "libattr1");
            Assert.Equal("attr", libattr.SourceName);
            Assert.Equal(versions["libattr1"], libattr.Version);
            Assert.StartsWith("1:", libattr.Version);
            Assert.Equal("amd64", libattr.Architecture);
            Assert.NotNull(inventory.Packages.Single(p => p.Name == "sed").License);   // from sed's DEP-5 copyright
        }

        var osv = WriteOsv(versions);
        var (importExit, importOutput) = store.Moat("scan", "db", "import", osv);
        Assert.True(importExit == 0, importOutput);
        Assert.Contains("imported 5 records from 7 files (1 withdrawn, 1 for other ecosystems)", importOutput);

        using (var images = store.Open())
        using (var database = VulnerabilityDatabase.Open(VulnerabilityDatabase.PathIn(images.Layout), writable: false))
        using (var files = ImageFiles.Open(images, image))
        {
            var result = Scanner.Scan(ImageInventory.Read(files), database);
            Assert.Equal("Debian:12", result.Ecosystem);
            Assert.Equal(["DSA-9001-1", "DEBIAN-CVE-2099-0004", "DEBIAN-CVE-2099-0003"], result.Findings.Select(f => f.Id).ToArray());
            var attr = result.Findings[0];
            Assert.Equal(("libattr1", "attr", Severity.Critical, 9.8), (attr.Package.Name, attr.MatchedName, attr.Severity, attr.Score!.Value));
            Assert.Equal(versions["libattr1"] + "+fix1", attr.FixedIn);
            Assert.Equal(Severity.Medium, result.Findings[1].Severity);   // 5.5 from its CVSS vector
            Assert.Null(result.Findings[2].FixedIn);
            Assert.Equal(Severity.Low, result.Findings[2].Severity);
        }

        var table = store.Moat("scan", "debian-test:1");
        Assert.Equal(0, table.Exit);
        Assert.Contains("CRITICAL", table.Output);
        Assert.Contains(versions["libattr1"] + "+fix1", table.Output);
        Assert.Contains("(no fix yet)", table.Output);
        Assert.Contains("3 vulnerabilities (1 critical, 1 medium, 1 low) in 4 packages (Debian:12)", table.Output);
        Assert.Equal(1, store.Moat("scan", "debian-test:1", "--fail-on", "critical").Exit);
        Assert.Equal(1, store.Moat("scan", "debian-test:1", "--fail-on", "low").Exit);

        var json = store.Moat("scan", "debian-test:1", "--format", "json");
        using (var document = JsonDocument.Parse(json.Output))
        {
            var findings = document.RootElement.GetProperty("findings");
            Assert.Equal(3, findings.GetArrayLength());
            Assert.Equal("CVE-2099-0001", findings[0].GetProperty("aliases")[0].GetString());
        }
        var sarif = store.Moat("scan", "debian-test:1", "--format", "sarif");
        using (var document = JsonDocument.Parse(sarif.Output))
        {
            Assert.Equal("2.1.0", document.RootElement.GetProperty("version").GetString());
            var results = document.RootElement.GetProperty("runs")[0].GetProperty("results");
            Assert.Equal(3, results.GetArrayLength());
            Assert.Equal("error", results[0].GetProperty("level").GetString());
            Assert.Equal("var/lib/dpkg/status", results[0].GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString());
        }
    }

    [Fact]
    public void SbomsNameThePackagesByPurl()
    {
        var (_, versions) = BuildImage();
        var table = store.Moat("sbom", "debian-test:1");
        Assert.Equal(0, table.Exit);
        Assert.Contains("attr", table.Output);
        Assert.DoesNotContain("removed-tool", table.Output);

        var cyclone = store.Moat("sbom", "debian-test:1", "--format", "cyclonedx");
        using (var document = JsonDocument.Parse(cyclone.Output))
        {
            var root = document.RootElement;
            Assert.Equal("CycloneDX", root.GetProperty("bomFormat").GetString());
            Assert.Equal("1.5", root.GetProperty("specVersion").GetString());
            Assert.StartsWith("urn:uuid:", root.GetProperty("serialNumber").GetString());
            Assert.Equal("container", root.GetProperty("metadata").GetProperty("component").GetProperty("type").GetString());
            var purls = root.GetProperty("components").EnumerateArray().Where(c => c.TryGetProperty("purl", out _)).Select(c => c.GetProperty("purl").GetString()).ToList();
            Assert.Equal(4, purls.Count);
            Assert.Contains($"pkg:deb/debian/libattr1@{versions["libattr1"].Replace("+", "%2B")}?arch=amd64&distro=debian-12", purls);
        }

        var spdx = store.Moat("sbom", "debian-test:1", "--format", "spdx");
        using (var document = JsonDocument.Parse(spdx.Output))
        {
            var root = document.RootElement;
            Assert.Equal("SPDX-2.3", root.GetProperty("spdxVersion").GetString());
            Assert.Equal("CC0-1.0", root.GetProperty("dataLicense").GetString());
            Assert.Equal("SPDXRef-DOCUMENT", root.GetProperty("SPDXID").GetString());
            Assert.Equal(5, root.GetProperty("packages").GetArrayLength());
            var sed = root.GetProperty("packages").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "sed");
            Assert.Equal(versions["sed"], sed.GetProperty("versionInfo").GetString());
            Assert.Equal("purl", sed.GetProperty("externalRefs")[0].GetProperty("referenceType").GetString());
            Assert.Contains(root.GetProperty("relationships").EnumerateArray(), r => r.GetProperty("relationshipType").GetString() == "DESCRIBES");
        }
    }

    [Fact]
    public void AnEmptyDatabaseIsAClearErrorAndAZipImports()
    {
        var (_, versions) = BuildImage();
        Assert.Equal(125, store.Moat("scan", "debian-test:1").Exit);   // "run moat scan db import ..."
        using (var images = store.Open())
            Assert.Throws<Moat.Scan.ScanException>(() => VulnerabilityDatabase.Open(VulnerabilityDatabase.PathIn(images.Layout), writable: false));

        var osv = WriteOsv(versions);
        var zip = Path.Combine(store.Directory, "all.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
            foreach (var file in Directory.GetFiles(osv))
                archive.CreateEntryFromFile(file, Path.GetFileName(file));
        var imported = store.Moat("scan", "db", "import", zip);
        Assert.Contains("imported 5 records from 1 files", imported.Output);
        Assert.Equal(1, store.Moat("scan", "debian-test:1", "--fail-on", "high").Exit);
        // A second import of the same data replaces, not duplicates.
        store.Moat("scan", "db", "import", zip);
        Assert.Contains("3 vulnerabilities", store.Moat("scan", "debian-test:1").Output);

        var broken = Path.Combine(store.Directory, "broken.json");
        File.WriteAllText(broken, "{\"id\": ");
        Assert.Equal(125, store.Moat("scan", "db", "import", broken).Exit);
        Assert.Equal(125, store.Moat("scan", "no-such-image:1").Exit);
    }
}
