using System.Text;
using System.Text.Json;
using Moat.Scan.Matching;
using Moat.Scan.Osv;

namespace Moat.Scan.Reports;

/// <summary>A scan as JSON (Moat's own shape) and as SARIF 2.1.0 (for code-scanning dashboards), written by hand.</summary>
public static class ScanReports
{
    public static string Json(ScanResult result, string image)
    {
        return Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("image", image);
            w.WriteString("distro", result.Inventory.Os?.Distro);
            w.WriteString("ecosystem", result.Ecosystem);
            w.WriteNumber("packages", result.Inventory.Packages.Count);
            w.WriteStartArray("findings");
            foreach (var f in result.Findings)
            {
                w.WriteStartObject();
                w.WriteString("id", f.Id);
                w.WriteStartArray("aliases");
                foreach (var alias in f.Aliases) w.WriteStringValue(alias);
                w.WriteEndArray();
                w.WriteString("package", f.Package.Name);
                w.WriteString("source", f.Package.SourceName);
                w.WriteString("matched", f.MatchedName);
                w.WriteString("installed", f.InstalledVersion);
                w.WriteString("fixed", f.FixedIn);
                w.WriteString("severity", SeverityLevels.Name(f.Severity));
                if (f.Score is { } score) w.WriteNumber("score", score);
                else w.WriteNull("score");
                w.WriteString("summary", f.Summary);
                w.WriteString("database", f.Package.Database);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    public static string Sarif(ScanResult result, string image, string toolVersion)
    {
        return Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
            w.WriteString("version", "2.1.0");
            w.WriteStartArray("runs");
            w.WriteStartObject();
            w.WriteStartObject("tool");
            w.WriteStartObject("driver");
            w.WriteString("name", "moat scan");
            w.WriteString("version", toolVersion);
            w.WriteString("informationUri", "https://osv.dev");
            w.WriteStartArray("rules");
            foreach (var f in result.Findings.DistinctBy(f => f.Id))
            {
                w.WriteStartObject();
                w.WriteString("id", f.Id);
                w.WriteStartObject("shortDescription");
                w.WriteString("text", f.Summary ?? f.Id);
                w.WriteEndObject();
                w.WriteString("helpUri", "https://osv.dev/vulnerability/" + f.Id);
                w.WriteStartObject("properties");
                w.WriteString("security-severity", (f.Score ?? SeverityScore(f.Severity)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
                w.WriteStartArray("tags");
                w.WriteStringValue("security");
                w.WriteStringValue("vulnerability");
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartArray("results");
            foreach (var f in result.Findings)
            {
                w.WriteStartObject();
                w.WriteString("ruleId", f.Id);
                w.WriteString("level", f.Severity >= Severity.High ? "error" : f.Severity == Severity.Medium ? "warning" : "note");
                w.WriteStartObject("message");
                w.WriteString("text", $"{f.Package.Name} {f.InstalledVersion} in {image} is affected by {f.Id}" +
                    (f.FixedIn is null ? " (no fixed version yet)" : $"; fixed in {f.FixedIn}"));
                w.WriteEndObject();
                w.WriteStartArray("locations");
                w.WriteStartObject();
                w.WriteStartObject("physicalLocation");
                w.WriteStartObject("artifactLocation");
                w.WriteString("uri", f.Package.Database.TrimStart('/'));
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>GitHub's code scanning reads security-severity as a CVSS-like number: a level's lower bound when there is no score.</summary>
    static double SeverityScore(Severity severity) => severity switch
    {
        Severity.Critical => 9.0,
        Severity.High => 7.0,
        Severity.Medium => 4.0,
        Severity.Low => 0.1,
        _ => 0.0,
    };

    internal static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        // Relaxed escaping: purls keep their "&" and "+" readable (the output is a file, never embedded in HTML).
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            body(writer);
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
