namespace Moat.Scan.Osv;

/// <summary>How bad a vulnerability is, in the levels CVSS v3 names (Unknown when the data gives none).</summary>
public enum Severity { Unknown = 0, Low = 1, Medium = 2, High = 3, Critical = 4 }

public static class SeverityLevels
{
    /// <summary>A distribution's or database's word for a level; null when it is not one.</summary>
    public static Severity? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "critical" => Severity.Critical,
        "high" or "important" => Severity.High,
        "medium" or "moderate" => Severity.Medium,
        "low" or "negligible" or "unimportant" => Severity.Low,
        _ => null,
    };

    /// <summary>CVSS v3's qualitative rating of a base score.</summary>
    public static Severity FromScore(double score) => score switch
    {
        >= 9.0 => Severity.Critical,
        >= 7.0 => Severity.High,
        >= 4.0 => Severity.Medium,
        > 0 => Severity.Low,
        _ => Severity.Unknown,
    };

    public static string Name(Severity severity) => severity switch
    {
        Severity.Critical => "CRITICAL",
        Severity.High => "HIGH",
        Severity.Medium => "MEDIUM",
        Severity.Low => "LOW",
        _ => "UNKNOWN",
    };
}
