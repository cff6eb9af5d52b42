using System.Text;
using System.Text.Json;
using Moat.Audit.Findings;

namespace Moat.Audit.Output;

/// <summary>`--format json`: the subject, the threshold, every finding with all its fields, and each rule's outcome.</summary>
public static class AuditJson
{
    public static string Write(AuditReport report, AuditSeverity failOn)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("subject", report.Subject);
            w.WriteString("failOn", failOn.Name());
            w.WriteBoolean("failed", report.ExitStatus(failOn) != 0);
            w.WriteStartArray("findings");
            foreach (var f in report.Findings)
            {
                w.WriteStartObject();
                w.WriteString("id", f.Rule.Id);
                w.WriteString("title", f.Rule.Title);
                w.WriteString("severity", f.Severity.Name());
                w.WriteString("path", f.Path);
                w.WriteString("message", f.Message);
                w.WriteString("gain", f.Gain);
                w.WriteStartObject("fix");
                w.WriteString("flag", f.Fix.Flag);
                w.WriteString("change", f.Fix.Change);
                w.WriteEndObject();
                w.WriteString("source", f.Rule.Source);
                if (f.WaivedBecause is { } reason) w.WriteString("waived", reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("checks");
            foreach (var o in report.Outcomes)
            {
                w.WriteStartObject();
                w.WriteString("id", o.Rule.Id);
                w.WriteString("status", o.Status switch { CheckStatus.Passed => "passed", CheckStatus.Failed => "failed", _ => "not-applicable" });
                if (o.Reason is not null) w.WriteString("reason", o.Reason);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
