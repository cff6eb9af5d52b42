namespace Moat.Audit.Findings;

/// <summary>What a check reports into: findings, or why it did not apply; the auditor records one outcome per rule.</summary>
public sealed class FindingSink
{
    readonly List<AuditFinding> findings = [];
    readonly List<CheckOutcome> outcomes = [];
    RuleInfo? current;
    int findingsBefore;
    string? notApplicable;

    public IReadOnlyList<AuditFinding> Findings => findings;
    public IReadOnlyList<CheckOutcome> Outcomes => outcomes;

    internal void Begin(RuleInfo rule)
    {
        current = rule;
        findingsBefore = findings.Count;
        notApplicable = null;
    }

    internal void End()
    {
        var rule = current ?? throw new InvalidOperationException("End without Begin");
        var count = findings.Count - findingsBefore;
        outcomes.Add(new CheckOutcome(rule, count > 0 ? CheckStatus.Failed : notApplicable is null ? CheckStatus.Passed : CheckStatus.NotApplicable, count, notApplicable));
        current = null;
    }

    /// <summary>A finding of the running rule at its usual severity.</summary>
    public void Add(string path, string message, string gain, AuditFix fix) => Add(Rule.Severity, path, message, gain, fix);

    public void Add(AuditSeverity severity, string path, string message, string gain, AuditFix fix) =>
        findings.Add(new AuditFinding(Rule, severity, path, message, gain, fix));

    /// <summary>The check could not be made here (a file the kernel does not have): said, not hidden.</summary>
    public void NotApplicable(string reason) => notApplicable = reason;

    RuleInfo Rule => current ?? throw new InvalidOperationException("a finding outside a rule");
}

public enum CheckStatus
{
    Passed,
    Failed,
    NotApplicable,
}

/// <summary>What one rule concluded: passed, failed with N findings, or not applicable and why.</summary>
public sealed record CheckOutcome(RuleInfo Rule, CheckStatus Status, int FindingCount, string? Reason);
