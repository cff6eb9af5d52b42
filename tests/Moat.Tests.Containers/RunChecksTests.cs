using System.Formats.Tar;
using System.Text.Json;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Containers;

/// <summary>
/// The checks `run` and `create` make before a container exists (docs/security.md, docs/supply-chain.md):
/// --audit, --scan, the trust policy, and --seccomp-record; and `moat audit CONTAINER`. A refusal is exit 125
/// and leaves no record, no layer and no volume.
/// </summary>
public sealed class RunChecksTests(ContainerStore store) : IClassFixture<ContainerStore>, IDisposable
{
    readonly string work = Directory.CreateTempSubdirectory("mrc").FullName;

    public void Dispose() => Directory.Delete(work, recursive: true);

    /// <summary>Nothing of a refused container: no record, no directory under containers/ (the locks directory aside), no volume.</summary>
    void AssertNothingLeft(string name)
    {
        Assert.DoesNotContain(name, store.Ok("ps", "-a", "--format", "json"));
        var containers = Path.Combine(store.Moat.Root, "containers");
        var left = Directory.Exists(containers) ? Directory.GetDirectories(containers).Select(Path.GetFileName).Where(d => d != ".locks" && !IsContainerOfStore(d!)).ToList() : [];
        Assert.Empty(left);
    }

    bool IsContainerOfStore(string id) => store.Ok("ps", "-aq", "--no-trunc").Contains(id, StringComparison.Ordinal);

    string Policy(string json)
    {
        var path = Path.Combine(work, $"policy-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void AuditEnforceRefusesAPrivilegedContainerAndLeavesNothing()
    {
        var refused = store.Run("run", "--rm", "--name", "audit-refused", "--audit=enforce", "--privileged", "-v", "/data", "busybox", "true");
        Assert.True(refused.ExitCode == 125, refused.ToString());
        Assert.Contains("--audit: MOAT-A002 critical", refused.Stderr);
        Assert.Contains("Error: --audit=enforce refuses the container", refused.Stderr);
        Assert.Contains("MOAT-A002", refused.Stderr.Split("Error:")[1]);
        AssertNothingLeft("audit-refused");
        var volumes = Path.Combine(store.Moat.Root, "volumes");
        Assert.True(!Directory.Exists(volumes) || Directory.GetDirectories(volumes).Length == 0, "the anonymous volume of -v /data is left");

        var created = store.Run("create", "--name", "audit-refused", "--audit=enforce", "--cap-add", "SYS_ADMIN", "busybox", "true");
        Assert.True(created.ExitCode == 125, created.ToString());
        Assert.Contains("MOAT-A003", created.Stderr);
        AssertNothingLeft("audit-refused");
    }

    [Fact]
    public void AuditWarnPrintsFindingsAndRuns()
    {
        var result = store.Run("run", "--rm", "--audit=warn", "--cap-add", "SYS_ADMIN", "busybox", "echo", "ran");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("ran\n", result.Stdout);
        // Critical without a user namespace, one step lower in the default one.
        Assert.Contains("WARN: --audit: MOAT-A003 high process.capabilities", result.Stderr);
    }

    [Fact]
    public void AuditThresholdAndWaivers()
    {
        // The defaults pass at high, and at medium but for the system's policy (or none): MOAT-A031. A root image is
        // mapped by the default user namespace; without it (--userns host) it trips MOAT-A001.
        var policy = Policy("""{"default": [{"type": "insecureAcceptAnything"}]}""");
        Assert.Equal("ok\n", store.Ok("run", "--rm", "--audit=enforce", "--signature-policy", policy, "busybox", "echo", "ok"));
        var medium = store.Run("run", "--rm", "--audit=enforce", "--audit-fail-on", "medium", "--signature-policy", policy, "busybox", "true");
        Assert.True(medium.ExitCode == 125, medium.ToString());
        Assert.DoesNotContain("MOAT-A001", medium.Stderr);
        Assert.Contains("MOAT-A031 medium", medium.Stderr);
        var hostRoot = store.Run("run", "--rm", "--userns", "host", "--audit=enforce", "--audit-fail-on", "medium", "--signature-policy", policy, "busybox", "true");
        Assert.True(hostRoot.ExitCode == 125, hostRoot.ToString());
        Assert.Contains("MOAT-A001", hostRoot.Stderr);
        Assert.Contains("is accepted without a signature", medium.Stderr);

        var waivers = Path.Combine(work, "waivers");
        File.WriteAllText(waivers, "# images are built here\nMOAT-A031=local builds only\n");
        var waived = store.Run("run", "--rm", "--audit=enforce", "--audit-fail-on", "medium", "--audit-waive", "MOAT-A001=the image needs root",
            "--audit-waivers", waivers, "--signature-policy", policy, "busybox", "echo", "waived");
        Assert.True(waived.ExitCode == 0, waived.ToString());
        Assert.Equal("waived\n", waived.Stdout);

        var typo = store.Run("run", "--rm", "--audit=enforce", "--audit-waive", "MOAT-A999=typo", "busybox", "true");
        Assert.Equal(125, typo.ExitCode);
        Assert.Contains("no rule is called \"MOAT-A999\"", typo.Stderr);
        var mode = store.Run("run", "--rm", "--audit=maybe", "busybox", "true");
        Assert.Equal(125, mode.ExitCode);
        Assert.Contains("--audit \"maybe\" is not a mode", mode.Stderr);
    }

    [Fact]
    public void AuditAContainerByNameOrId()
    {
        var id = store.Ok("create", "--name", "audited", "--cap-add", "NET_ADMIN", "--pid", "host", "busybox", "sleep", "100").Trim();
        try
        {
            var policy = Policy("""{"default": [{"type": "insecureAcceptAnything"}]}""");
            var result = store.Run("audit", "audited", "--format", "json", "--signature-policy", policy);
            Assert.True(result.ExitCode == 1, result.ToString());
            using var document = JsonDocument.Parse(result.Stdout);
            Assert.Equal("audited", document.RootElement.GetProperty("subject").GetString());
            var ids = document.RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("id").GetString()).ToList();
            Assert.Contains("MOAT-A003", ids);
            Assert.Contains("MOAT-A011", ids);
            Assert.Contains("MOAT-A031", ids);
            var table = store.Run("audit", id[..12], "--waive", "MOAT-A003=test", "--waive", "MOAT-A011=test", "--signature-policy", policy);
            Assert.True(table.ExitCode == 0, table.ToString());
            Assert.Contains("WAIVED (2)", table.Stdout);

            var rejecting = Policy("""{"default": [{"type": "insecureAcceptAnything"}], "transports": {"docker": {"localhost": [{"type": "reject"}]}}}""");
            var refused = store.Run("audit", "audited", "--format", "json", "--signature-policy", rejecting);
            Assert.Contains("MOAT-A031", refused.Stdout);
            Assert.Contains("rejects every image here", refused.Stdout);

            var missing = store.Run("audit", "no-such-container");
            Assert.Equal(125, missing.ExitCode);
            Assert.StartsWith("Error: ", missing.Stderr);
            var both = store.Run("audit", "audited", "--host");
            Assert.Equal(125, both.ExitCode);
        }
        finally
        {
            store.Run("rm", "-f", "audited");
        }
    }

    [Fact]
    public void TheTrustPolicyRefusesAnImageOnRunAndCreate()
    {
        var rejecting = Policy("""{"default": [{"type": "insecureAcceptAnything"}], "transports": {"docker": {"localhost/busybox": [{"type": "reject"}]}}}""");
        var refused = store.Run("run", "--rm", "--name", "untrusted", "--signature-policy", rejecting, "busybox", "true");
        Assert.True(refused.ExitCode == 125, refused.ToString());
        Assert.Contains("localhost/busybox:latest", refused.Stderr);
        Assert.Contains("is refused by the trust policy", refused.Stderr);
        Assert.Contains("transports.docker scope \"localhost/busybox\"", refused.Stderr);
        AssertNothingLeft("untrusted");
        var created = store.Run("create", "--name", "untrusted", "--signature-policy", rejecting, "busybox", "true");
        Assert.Equal(125, created.ExitCode);
        AssertNothingLeft("untrusted");

        var broken = Policy("""{"default": [{"type": "nonsense"}]}""");
        var invalid = store.Run("run", "--rm", "--signature-policy", broken, "busybox", "true");
        Assert.Equal(125, invalid.ExitCode);
        Assert.Contains(broken, invalid.Stderr);
    }

    [Fact]
    public void TheRecordKeepsTheImageDigest()
    {
        store.Ok("create", "--name", "digest", "busybox", "true");
        try
        {
            var record = Path.Combine(store.Moat.Root, "images.db");
            Assert.True(File.Exists(record));
            var images = JsonDocument.Parse(store.Ok("image", "inspect", "busybox")).RootElement[0];
            // An imported image has no repo digest: its manifest's digest is kept.
            var digest = images.GetProperty("Digest").GetString()!;
            // The settings JSON of the record holds the digest (what run's trust check and `audit NAME` use).
            var settings = Tool.Run("sqlite3", record, "select settings from containers where name = 'digest'");
            Assert.Contains($"\"imageDigest\":\"{digest}\"", settings.Replace(" ", ""), StringComparison.Ordinal);
        }
        finally
        {
            store.Run("rm", "-f", "digest");
        }
    }

    [Fact]
    public void ScanWarnsOrRefusesAnImageWithKnownVulnerabilities()
    {
        ImportScannedImage();
        var record = Path.Combine(work, "osv.json");
        File.WriteAllText(record, """
            {"schema_version": "1.6.0", "id": "DSA-9999-1", "modified": "2024-05-01T12:00:00Z", "summary": "sed: test vulnerability",
             "affected": [{"package": {"ecosystem": "Debian:12", "name": "sed"},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.9-2"}]}]}],
             "database_specific": {"severity": "high"}}
            """);
        // Without a database: enforce cannot scan (refused), warn says so and runs.
        var noDatabase = store.Run("run", "--rm", "--scan=enforce", "scanned", "true");
        Assert.True(noDatabase.ExitCode == 125, noDatabase.ToString());
        Assert.Contains("--scan=enforce cannot scan localhost/scanned:latest", noDatabase.Stderr);
        var warnOnly = store.Run("run", "--rm", "--scan=warn", "scanned", "true");
        Assert.True(warnOnly.ExitCode == 0, warnOnly.ToString());
        Assert.Contains("was not scanned", warnOnly.Stderr);

        store.Ok("scan", "db", "import", record);
        var refused = store.Run("run", "--rm", "--name", "vulnerable", "--scan=enforce", "scanned", "true");
        Assert.True(refused.ExitCode == 125, refused.ToString());
        Assert.Contains("WARN: --scan: high DSA-9999-1 in sed 4.9-1 (fixed in 4.9-2)", refused.Stderr);
        Assert.Contains("Error: localhost/scanned:latest has 1 known vulnerability at or above high (DSA-9999-1): --scan=enforce refuses to run it", refused.Stderr);
        AssertNothingLeft("vulnerable");

        var warned = store.Run("run", "--rm", "--scan=warn", "scanned", "echo", "ran");
        Assert.True(warned.ExitCode == 0, warned.ToString());
        Assert.Equal("ran\n", warned.Stdout);
        Assert.Contains("DSA-9999-1", warned.Stderr);
        var critical = store.Run("run", "--rm", "--scan=enforce", "--scan-fail-on", "critical", "scanned", "echo", "ran");
        Assert.True(critical.ExitCode == 0, critical.ToString());
        Assert.DoesNotContain("DSA-9999-1", critical.Stderr);
        // busybox has no package database: nothing to match, it runs.
        var plain = store.Run("run", "--rm", "--scan=enforce", "busybox", "echo", "ran");
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Contains("has no package database", plain.Stderr);
    }

    /// <summary>busybox with Debian 12's os-release and a dpkg status database naming sed 4.9-1.</summary>
    void ImportScannedImage()
    {
        if (store.Run("image", "inspect", "scanned").ExitCode == 0)
            return;
        var path = Path.Combine(work, "scanned.tar");
        using (var file = File.Create(path))
        using (var tar = new TarWriter(file, TarEntryFormat.Pax))
        {
            void Dir(string name) => tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)0x1ed });
            void Text(string name, string content)
            {
                using var data = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1a4, DataStream = data });
            }
            foreach (var d in new[] { "bin/", "etc/", "proc/", "sys/", "dev/", "tmp/", "var/", "var/lib/", "var/lib/dpkg/" })
                Dir(d);
            using (var busybox = File.OpenRead("/bin/busybox"))
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = (UnixFileMode)0x1ed, DataStream = busybox });
            foreach (var applet in new[] { "sh", "true", "echo" })
                tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox" });
            Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
            Text("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
            Text("var/lib/dpkg/status", "Package: sed\nStatus: install ok installed\nPriority: required\nArchitecture: amd64\nVersion: 4.9-1\nDescription: GNU stream editor\n\n");
        }
        store.Ok("import", "--change", "CMD [\"sh\"]", path, "scanned");
    }

    [Fact]
    public void SeccompRecordWritesAProfileThatRunsTheWorkloadAgainAndRefusesTheRest()
    {
        var profile = Path.Combine(work, "profile.json");
        const string Workload = "ls / > /dev/null; cat /data/seed; echo done";
        var recorded = store.Run("run", "--rm", "--seccomp-record", profile, "busybox", "sh", "-c", Workload);
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        Assert.Equal("from the image\ndone\n", recorded.Stdout);
        Assert.Contains("recorded ", recorded.Stderr);
        Assert.Contains($"wrote {profile}", recorded.Stderr);
        using (var document = JsonDocument.Parse(File.ReadAllText(profile)))
        {
            Assert.Equal("SCMP_ACT_ERRNO", document.RootElement.GetProperty("defaultAction").GetString());
            var allowed = document.RootElement.GetProperty("syscalls")[0].GetProperty("names").EnumerateArray().Select(n => n.GetString()).ToList();
            Assert.Contains("execve", allowed);
            Assert.DoesNotContain("mkdir", allowed);
            Assert.DoesNotContain("unshare", allowed);
        }

        var again = store.Run("run", "--rm", "--security-opt", $"seccomp={profile}", "busybox", "sh", "-c", Workload);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal("from the image\ndone\n", again.Stdout);
        var refused = store.Run("run", "--rm", "--security-opt", $"seccomp={profile}", "busybox", "sh", "-c", "mkdir /tmp/x && echo made");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.DoesNotContain("made", refused.Stdout);

        var detached = store.Run("run", "-d", "--seccomp-record", profile, "busybox", "true");
        Assert.Equal(125, detached.ExitCode);
        Assert.Contains("--seccomp-record needs the container attached", detached.Stderr);
    }

    [Fact]
    public void SeccompGenerateRecordsAnImageGivenAfterTheSeparator()
    {
        var profile = Path.Combine(work, "generated.json");
        var recorded = store.Run("seccomp", "generate", "-o", profile, "--", "busybox", "sh", "-c", "cat /data/seed");
        Assert.True(recorded.ExitCode == 0, recorded.ToString());
        Assert.Equal("from the image\n", recorded.Stdout);
        Assert.Contains($"wrote {profile}", recorded.Stderr);
        var again = store.Run("run", "--rm", "--security-opt", $"seccomp={profile}", "busybox", "sh", "-c", "cat /data/seed");
        Assert.True(again.ExitCode == 0, again.ToString());
        var neither = store.Run("seccomp", "generate", "-o", profile);
        Assert.Equal(125, neither.ExitCode);
        Assert.Contains("give what to record", neither.Stderr);
    }
}
