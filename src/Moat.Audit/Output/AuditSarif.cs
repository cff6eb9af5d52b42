using System.Text;
using System.Text.Json;
using Moat.Audit.Findings;

namespace Moat.Audit.Output;

/// <summary>
/// `--format sarif`: SARIF 2.1.0 (OASIS), which code-scanning services display. Every rule is in
/// runs[0].tool.driver.rules; each finding is a result with its rule, level (critical/high: error,
/// medium: warning, low: note), the artifact (config.json with the line of its JSON path, or the host file)
/// and the JSON path as a logical location; waived findings carry an external suppression with the reason.
/// </summary>
public static class AuditSarif
{
    public const string Schema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

    public static string Level(AuditSeverity severity) => severity switch
    {
        AuditSeverity.Critical or AuditSeverity.High => "error",
        AuditSeverity.Medium => "warning",
        _ => "note",
    };

    // GitHub code scanning reads "security-severity" (a CVSS-like score) to rank security results.
    static string Score(AuditSeverity severity) => severity switch
    {
        AuditSeverity.Critical => "9.5",
        AuditSeverity.High => "8.0",
        AuditSeverity.Medium => "5.5",
        _ => "3.0",
    };

    public static string Write(AuditReport report, string toolVersion)
    {
        var ruleIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < report.Rules.Count; i++) ruleIndex[report.Rules[i].Id] = i;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("$schema", Schema);
            w.WriteString("version", "2.1.0");
            w.WriteStartArray("runs");
            w.WriteStartObject();
            w.WriteStartObject("tool");
            w.WriteStartObject("driver");
            w.WriteString("name", "moat audit");
            w.WriteString("version", toolVersion);
            w.WriteStartArray("rules");
            foreach (var rule in report.Rules)
            {
                w.WriteStartObject();
                w.WriteString("id", rule.Id);
                w.WriteString("name", PascalName(rule.Title));
                w.WriteStartObject("shortDescription");
                w.WriteString("text", rule.Title);
                w.WriteEndObject();
                w.WriteStartObject("fullDescription");
                w.WriteString("text", rule.Rationale);
                w.WriteEndObject();
                w.WriteStartObject("help");
                w.WriteString("text", $"{rule.Rationale} Source: {rule.Source}. See docs/security.md.");
                w.WriteEndObject();
                w.WriteStartObject("defaultConfiguration");
                w.WriteString("level", Level(rule.Severity));
                w.WriteEndObject();
                w.WriteStartObject("properties");
                w.WriteString("source", rule.Source);
                w.WriteString("security-severity", Score(rule.Severity));
                w.WriteStartArray("tags");
                w.WriteStringValue("security");
                w.WriteStringValue(rule.Id.StartsWith("MOAT-H", StringComparison.Ordinal) ? "host" : "container");
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject(); // driver
            w.WriteEndObject(); // tool
            w.WriteStartArray("results");
            foreach (var f in report.Findings)
            {
                w.WriteStartObject();
                w.WriteString("ruleId", f.Rule.Id);
                if (ruleIndex.TryGetValue(f.Rule.Id, out var index)) w.WriteNumber("ruleIndex", index);
                w.WriteString("level", Level(f.Severity));
                w.WriteStartObject("message");
                w.WriteString("text", $"{f.Message}. An attacker gains: {f.Gain}. Fix: {f.Fix.Flag}; {f.Fix.Change}.");
                w.WriteEndObject();
                w.WriteStartArray("locations");
                w.WriteStartObject();
                w.WriteStartObject("physicalLocation");
                w.WriteStartObject("artifactLocation");
                w.WriteString("uri", report.Artifact?.Uri ?? "file://" + f.Path);
                w.WriteEndObject();
                if (report.Artifact is { } artifact)
                {
                    w.WriteStartObject("region");
                    w.WriteNumber("startLine", artifact.LineOf?.Invoke(f.Path) ?? 1);
                    w.WriteEndObject();
                }
                w.WriteEndObject(); // physicalLocation
                w.WriteStartArray("logicalLocations");
                w.WriteStartObject();
                w.WriteString("fullyQualifiedName", f.Path);
                w.WriteString("kind", report.Artifact is null ? "resource" : "member");
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndArray(); // locations
                w.WriteStartObject("properties");
                w.WriteString("severity", f.Severity.Name());
                w.WriteEndObject();
                if (f.WaivedBecause is { } reason)
                {
                    w.WriteStartArray("suppressions");
                    w.WriteStartObject();
                    w.WriteString("kind", "external");
                    w.WriteString("justification", reason);
                    w.WriteEndObject();
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject(); // run
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    static string PascalName(string title)
    {
        var text = new StringBuilder();
        foreach (var word in title.Split([' ', '/', '-', ',', '\'', '(', ')'], StringSplitOptions.RemoveEmptyEntries))
            text.Append(char.ToUpperInvariant(word[0])).Append(word.AsSpan(1));
        return text.ToString();
    }
}
