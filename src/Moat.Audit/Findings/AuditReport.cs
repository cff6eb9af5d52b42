namespace Moat.Audit.Findings;

/// <summary>
/// The result of one audit: what was audited (a bundle directory or "host"), every rule that ran with its
/// outcome, and the findings (waived ones included, marked). <see cref="Artifact"/> is the file SARIF points
/// at (config.json) with the line of each JSON path when the document's bytes were at hand.
/// </summary>
public sealed class AuditReport(string subject, IReadOnlyList<RuleInfo> rules, IReadOnlyList<CheckOutcome> outcomes, IReadOnlyList<AuditFinding> findings)
{
    public string Subject { get; } = subject;
    public IReadOnlyList<RuleInfo> Rules { get; } = rules;
    public IReadOnlyList<CheckOutcome> Outcomes { get; } = outcomes;
    public IReadOnlyList<AuditFinding> Findings { get; private set; } = findings;

    /// <summary>The audited file (config.json) and a way to find the line of a JSON path in it; null for a host audit.</summary>
    public AuditArtifact? Artifact { get; init; }

    /// <summary>Marks the findings of waived rules (they stay listed, with the reason, and no longer count).</summary>
    public AuditReport Waive(Waivers waivers)
    {
        if (waivers.Count == 0) return this;
        Findings = Findings.Select(f => waivers.ReasonFor(f.Rule.Id) is { } reason ? f with { WaivedBecause = reason } : f).ToList();
        return this;
    }

    /// <summary>The findings that count: not waived, at or above <paramref name="threshold"/>.</summary>
    public IEnumerable<AuditFinding> Failing(AuditSeverity threshold) => Findings.Where(f => !f.IsWaived && f.Severity >= threshold);

    /// <summary>0 when nothing counts at or above the threshold, 1 otherwise (125 is left to the caller, for errors).</summary>
    public int ExitStatus(AuditSeverity threshold) => Failing(threshold).Any() ? 1 : 0;
}

/// <summary>The audited file as SARIF names it, and the line of a JSON path (1 when unknown).</summary>
public sealed record AuditArtifact(string Uri, Func<string, int>? LineOf);
