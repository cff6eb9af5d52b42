using System.Text.Json;
using Moat.Audit.Bundle;
using Moat.Audit.Findings;
using Moat.Audit.Output;
using Moat.Oci;

namespace Moat.Tests.Audit.Bundle;

/// <summary>SARIF 2.1.0 and JSON parse with their required fields; lines point into config.json; waivers mark findings and stop them counting.</summary>
public sealed class OutputTests : IDisposable
{
    readonly string bundle = Directory.CreateTempSubdirectory("moat-audit-bundle-").FullName;

    AuditReport Loose()
    {
        var spec = Configs.Tight();
        spec.Linux!.Seccomp = null;
        spec.Process!.NoNewPrivileges = false;
        spec.Process.Capabilities!.Bounding!.Add("CAP_SYS_ADMIN");
        var json = System.Text.Encoding.UTF8.GetString(Moat.Oci.Json.SpecJson.ToUtf8Bytes(spec, indented: true));
        File.WriteAllText(Path.Combine(bundle, "config.json"), json);
        return SpecAuditor.AuditBundle(bundle);
    }

    [Fact]
    public void Sarif_has_the_required_fields_and_lines_into_config_json()
    {
        var report = Loose();
        using var sarif = JsonDocument.Parse(AuditSarif.Write(report, "test"));
        var root = sarif.RootElement;
        Assert.Equal("2.1.0", root.GetProperty("version").GetString());
        Assert.Contains("sarif-schema-2.1.0", root.GetProperty("$schema").GetString());
        var run = root.GetProperty("runs")[0];
        var rules = run.GetProperty("tool").GetProperty("driver").GetProperty("rules");
        Assert.Equal(SpecAuditor.Rules.Count, rules.GetArrayLength());
        var results = run.GetProperty("results");
        Assert.Equal(report.Findings.Count, results.GetArrayLength());
        var lines = File.ReadAllLines(Path.Combine(bundle, "config.json"));
        foreach (var result in results.EnumerateArray())
        {
            Assert.StartsWith("MOAT-A", result.GetProperty("ruleId").GetString());
            Assert.Contains(result.GetProperty("level").GetString(), new[] { "error", "warning", "note" });
            Assert.NotEmpty(result.GetProperty("message").GetProperty("text").GetString()!);
            var location = result.GetProperty("locations")[0];
            Assert.Equal("config.json", location.GetProperty("physicalLocation").GetProperty("artifactLocation").GetProperty("uri").GetString());
            var line = location.GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32();
            Assert.InRange(line, 1, lines.Length);
            Assert.NotEmpty(location.GetProperty("logicalLocations")[0].GetProperty("fullyQualifiedName").GetString()!);
        }
        // The SYS_ADMIN finding points at the line holding "CAP_SYS_ADMIN".
        var sysAdmin = results.EnumerateArray().Single(r => r.GetProperty("ruleId").GetString() == "MOAT-A003");
        var sysAdminLine = sysAdmin.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32();
        Assert.Contains("CAP_SYS_ADMIN", lines[sysAdminLine - 1]);
        var nnp = results.EnumerateArray().Single(r => r.GetProperty("ruleId").GetString() == "MOAT-A006");
        Assert.Contains("\"process\"", lines[nnp.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32() - 1]);
    }

    [Fact]
    public void Waived_findings_are_listed_with_their_reason_and_do_not_count()
    {
        var report = Loose();
        Assert.Equal(1, report.ExitStatus(AuditSeverity.High));
        var waivers = Waivers.Parse(["MOAT-A005=the workload is a syscall fuzzer", "moat-a003=needs mount for a FUSE test"], null, id => SpecAuditor.RuleInfos.Any(r => string.Equals(r.Id, id, StringComparison.OrdinalIgnoreCase)));
        report.Waive(waivers);
        Assert.Equal(0, report.ExitStatus(AuditSeverity.High));
        Assert.Equal(1, report.ExitStatus(AuditSeverity.Medium)); // A006 still counts
        Assert.Equal("the workload is a syscall fuzzer", report.Findings.Single(f => f.Rule.Id == "MOAT-A005").WaivedBecause);
        var text = AuditText.Write(report, AuditSeverity.High, colour: false);
        Assert.Contains("WAIVED (2)", text);
        Assert.Contains("waived: the workload is a syscall fuzzer", text);
        Assert.DoesNotContain("\u001b[", text);
        using var sarif = JsonDocument.Parse(AuditSarif.Write(report, "test"));
        var suppressed = sarif.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray().Count(r => r.TryGetProperty("suppressions", out _));
        Assert.Equal(2, suppressed);
        using var json = JsonDocument.Parse(AuditJson.Write(report, AuditSeverity.High));
        Assert.False(json.RootElement.GetProperty("failed").GetBoolean());
    }

    [Theory]
    [InlineData("MOAT-A999=x", "no rule is called")]
    [InlineData("MOAT-A005", "has no reason")]
    [InlineData("MOAT-A005=", "has no reason after")]
    public void Bad_waivers_are_refused_with_a_sentence(string entry, string expected)
    {
        var error = Assert.Throws<Moat.Audit.AuditException>(() => Waivers.Parse([entry], null, id => SpecAuditor.RuleInfos.Any(r => string.Equals(r.Id, id, StringComparison.OrdinalIgnoreCase))));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_waivers_file_takes_comments()
    {
        var file = Path.Combine(bundle, "waivers");
        File.WriteAllText(file, "# accepted risks\nMOAT-A007=the app writes its cache   # ticket 12\n\n");
        var waivers = Waivers.Parse([], file, id => SpecAuditor.RuleInfos.Any(r => r.Id == id));
        Assert.Equal("the app writes its cache", waivers.ReasonFor("MOAT-A007"));
    }

    public void Dispose() => Directory.Delete(bundle, recursive: true);
}
