using Moat.Oci.Diagnostics;

namespace Moat.Audit.Findings;

/// <summary>
/// One finding: which rule, how serious here, where (a JSON path such as <c>process.capabilities.bounding[3]</c>
/// for a config, a file such as <c>/proc/sys/kernel/kptr_restrict</c> for a host), what is wrong, what an
/// attacker gains from it and how to fix it. <see cref="WaivedBecause"/> is set when the user waived the rule.
/// </summary>
public sealed record AuditFinding(RuleInfo Rule, AuditSeverity Severity, string Path, string Message, string Gain, AuditFix Fix)
{
    public string? WaivedBecause { get; init; }

    public bool IsWaived => WaivedBecause is not null;

    /// <summary>
    /// The finding as a validation diagnostic (path, message, config fix), so a runtime that refuses loose
    /// configs (run.moat.audit=enforce) can report it with its other errors; high and critical become errors.
    /// </summary>
    public Diagnostic ToDiagnostic() => new(
        Path,
        Severity >= AuditSeverity.High ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
        $"{Rule.Id}: {Message}",
        Fix.Change);

    public override string ToString() => $"{Rule.Id} {Severity.Name()} {Path}: {Message}";
}
