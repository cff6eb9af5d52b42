using System.Text.Json;

namespace Moat.Scan.Osv;

/// <summary>One event of an OSV ECOSYSTEM range.</summary>
public enum RangeEventKind { Introduced, Fixed, LastAffected }

public readonly record struct RangeEvent(RangeEventKind Kind, string Version);

/// <summary>One affected[] entry of a record, for an ecosystem this scanner reads.</summary>
public sealed record OsvAffected(string Ecosystem, string Package, IReadOnlyList<IReadOnlyList<RangeEvent>> Ranges, IReadOnlyList<string> Versions, Severity? Severity);

/// <summary>The parts of an OSV record (https://ossf.github.io/osv-schema/) that matching and reports use.</summary>
public sealed record OsvRecord(string Id, string? Modified, bool Withdrawn, string? Summary, IReadOnlyList<string> Aliases,
    Severity Severity, double? Score, IReadOnlyList<OsvAffected> Affected)
{
    /// <summary>Parses one record; <paramref name="what"/> names it in errors.</summary>
    public static OsvRecord Parse(ReadOnlySpan<byte> json, string what)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            // The position, not the reader's message: NativeAOT builds carry only its resource key.
            throw new ScanException($"{what} is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ScanException($"{what} is not an OSV record: its top level is not an object");
            var id = Text(root, "id") ?? throw new ScanException($"{what} is not an OSV record: it has no \"id\"");
            var withdrawn = Text(root, "withdrawn") is not null;
            var aliases = Strings(root, "aliases");
            var (severity, score) = RecordSeverity(root);
            var affected = new List<OsvAffected>();
            if (root.TryGetProperty("affected", out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var entry in list.EnumerateArray())
                    if (ParseAffected(entry, id) is { } parsed)
                        affected.Add(parsed);
            return new OsvRecord(id, Text(root, "modified"), withdrawn, Text(root, "summary") ?? FirstLine(Text(root, "details")), aliases, severity, score, affected);
        }
    }

    static string? FirstLine(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var line = text.Trim().Split('\n')[0].Trim();
        return line.Length > 200 ? line[..197] + "..." : line;
    }

    static OsvAffected? ParseAffected(JsonElement entry, string id)
    {
        if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("package", out var package) || package.ValueKind != JsonValueKind.Object)
            return null;
        var ecosystem = Text(package, "ecosystem");
        var name = Text(package, "name");
        if (ecosystem is null || name is null || Ecosystems.Normalize(ecosystem) is not { } normalized)
            return null;
        var ranges = new List<IReadOnlyList<RangeEvent>>();
        if (entry.TryGetProperty("ranges", out var rangeList) && rangeList.ValueKind == JsonValueKind.Array)
            foreach (var range in rangeList.EnumerateArray())
            {
                // Distribution packages have ECOSYSTEM ranges; GIT (commit) and SEMVER ranges say nothing about their versions.
                if (Text(range, "type") != "ECOSYSTEM" || !range.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array)
                    continue;
                var parsed = new List<RangeEvent>();
                foreach (var e in events.EnumerateArray())
                {
                    if (Text(e, "introduced") is { } introduced) parsed.Add(new(RangeEventKind.Introduced, introduced));
                    else if (Text(e, "fixed") is { } fixedIn) parsed.Add(new(RangeEventKind.Fixed, fixedIn));
                    else if (Text(e, "last_affected") is { } last) parsed.Add(new(RangeEventKind.LastAffected, last));
                    // "limit" bounds git ranges only.
                }
                if (parsed.Count > 0)
                    ranges.Add(parsed);
            }
        var versions = Strings(entry, "versions");
        if (ranges.Count == 0 && versions.Count == 0)
            return null;
        Severity? severity = null;
        if (entry.TryGetProperty("database_specific", out var specific) && specific.ValueKind == JsonValueKind.Object)
            severity = SeverityLevels.Parse(Text(specific, "severity"));
        if (severity is null && entry.TryGetProperty("ecosystem_specific", out var ecosystemSpecific) && ecosystemSpecific.ValueKind == JsonValueKind.Object)
            severity = SeverityLevels.Parse(Text(ecosystemSpecific, "severity")) ?? SeverityLevels.Parse(Text(ecosystemSpecific, "urgency"));
        if (severity is null && entry.TryGetProperty("severity", out var entrySeverity))
            severity = SeverityOf(entrySeverity).Severity;
        return new OsvAffected(normalized, name, ranges, versions, severity == Severity.Unknown ? null : severity);
    }

    /// <summary>The record's level: database_specific.severity, else its severity[] (a distribution's word, or a CVSS v3 vector scored).</summary>
    static (Severity, double?) RecordSeverity(JsonElement root)
    {
        if (root.TryGetProperty("database_specific", out var specific) && specific.ValueKind == JsonValueKind.Object
            && SeverityLevels.Parse(Text(specific, "severity")) is { } named)
            return (named, null);
        return root.TryGetProperty("severity", out var list) ? SeverityOf(list) : (Severity.Unknown, null);
    }

    static (Severity Severity, double? Score) SeverityOf(JsonElement list)
    {
        if (list.ValueKind != JsonValueKind.Array)
            return (Severity.Unknown, null);
        Severity? named = null;
        double? best = null;
        foreach (var item in list.EnumerateArray())
        {
            var type = Text(item, "type");
            var score = Text(item, "score");
            if (score is null) continue;
            if (type is "CVSS_V3" && Cvss3.TryBaseScore(score) is { } value)
                best = Math.Max(best ?? 0, value);
            else if (type is not ("CVSS_V2" or "CVSS_V3" or "CVSS_V4") && SeverityLevels.Parse(score) is { } level)
                named ??= level; // Ubuntu's {"type": "Ubuntu", "score": "medium"}
        }
        if (named is { } n)
            return (n, best);
        return best is { } b ? (SeverityLevels.FromScore(b), b) : (Severity.Unknown, null);
    }

    static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    static List<string> Strings(JsonElement element, string name)
    {
        var result = new List<string>();
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array)
            foreach (var item in value.EnumerateArray())
                if (item.ValueKind == JsonValueKind.String && item.GetString() is { } s)
                    result.Add(s);
        return result;
    }
}
