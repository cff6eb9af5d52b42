namespace Moat.Audit.Findings;

/// <summary>How much a finding weakens isolation, lowest first (so comparisons read "at or above").</summary>
public enum AuditSeverity
{
    Low,
    Medium,
    High,
    Critical,
}

public static class AuditSeverities
{
    public static string Name(this AuditSeverity severity) => severity switch
    {
        AuditSeverity.Low => "low",
        AuditSeverity.Medium => "medium",
        AuditSeverity.High => "high",
        _ => "critical",
    };

    public static bool TryParse(string text, out AuditSeverity severity)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "low": severity = AuditSeverity.Low; return true;
            case "medium": severity = AuditSeverity.Medium; return true;
            case "high": severity = AuditSeverity.High; return true;
            case "critical": severity = AuditSeverity.Critical; return true;
            default: severity = AuditSeverity.Low; return false;
        }
    }

    /// <summary>One step lower, for a risk a user namespace contains (never below low).</summary>
    public static AuditSeverity Softened(this AuditSeverity severity) => severity == AuditSeverity.Low ? severity : severity - 1;
}
