using System.Text.Json;

namespace Moat.Tests.Scan.Osv;

/// <summary>OSV records in the real schema (https://ossf.github.io/osv-schema/), written as files the way osv.dev publishes them.</summary>
public static class OsvWriter
{
    public sealed record Affected(string Ecosystem, string Package, string? Introduced = "0", string? Fixed = null, string? LastAffected = null, string[]? Versions = null);

    public static string Record(string id, Affected[] affected, string? summary = null, string? cvss = null, string? severity = null,
        bool withdrawn = false, string[]? aliases = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("schema_version", "1.6.0");
            w.WriteString("id", id);
            w.WriteString("modified", "2024-05-01T12:00:00Z");
            w.WriteString("published", "2024-04-01T12:00:00Z");
            if (withdrawn) w.WriteString("withdrawn", "2024-05-02T00:00:00Z");
            if (summary is not null) w.WriteString("summary", summary);
            w.WriteString("details", "Test record written by Moat's scan tests.");
            w.WriteStartArray("aliases");
            foreach (var alias in aliases ?? []) w.WriteStringValue(alias);
            w.WriteEndArray();
            if (cvss is not null)
            {
                w.WriteStartArray("severity");
                w.WriteStartObject();
                w.WriteString("type", "CVSS_V3");
                w.WriteString("score", cvss);
                w.WriteEndObject();
                w.WriteEndArray();
            }
            w.WriteStartArray("affected");
            foreach (var a in affected)
            {
                w.WriteStartObject();
                w.WriteStartObject("package");
                w.WriteString("ecosystem", a.Ecosystem);
                w.WriteString("name", a.Package);
                w.WriteEndObject();
                if (a.Introduced is not null)
                {
                    w.WriteStartArray("ranges");
                    w.WriteStartObject();
                    w.WriteString("type", "ECOSYSTEM");
                    w.WriteStartArray("events");
                    w.WriteStartObject(); w.WriteString("introduced", a.Introduced); w.WriteEndObject();
                    if (a.Fixed is not null) { w.WriteStartObject(); w.WriteString("fixed", a.Fixed); w.WriteEndObject(); }
                    if (a.LastAffected is not null) { w.WriteStartObject(); w.WriteString("last_affected", a.LastAffected); w.WriteEndObject(); }
                    w.WriteEndArray();
                    w.WriteEndObject();
                    w.WriteEndArray();
                }
                if (a.Versions is not null)
                {
                    w.WriteStartArray("versions");
                    foreach (var v in a.Versions) w.WriteStringValue(v);
                    w.WriteEndArray();
                }
                w.WriteStartObject("database_specific");
                w.WriteString("source", "https://example.invalid/" + id);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (severity is not null)
            {
                w.WriteStartObject("database_specific");
                w.WriteString("severity", severity);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
