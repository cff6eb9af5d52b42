using System.Text;
using Moat.Audit.Findings;

namespace Moat.Audit.Output;

/// <summary>
/// The readable report: findings grouped by severity (critical first), each with its id, field, what is
/// wrong, what an attacker gains and the fix; waived findings last with their reasons; a closing summary.
/// Colour (ANSI) only when the caller says the output is a terminal.
/// </summary>
public static class AuditText
{
    public static string Write(AuditReport report, AuditSeverity failOn, bool colour)
    {
        var text = new StringBuilder();
        var active = report.Findings.Where(f => !f.IsWaived).ToList();
        foreach (var severity in new[] { AuditSeverity.Critical, AuditSeverity.High, AuditSeverity.Medium, AuditSeverity.Low })
        {
            var group = active.Where(f => f.Severity == severity).ToList();
            if (group.Count == 0) continue;
            text.Append(Paint($"{severity.Name().ToUpperInvariant()} ({group.Count})", severity, colour)).Append('\n');
            var idWidth = group.Max(f => f.Rule.Id.Length);
            var pathWidth = Math.Min(48, group.Max(f => f.Path.Length));
            foreach (var f in group)
            {
                text.Append("  ").Append(f.Rule.Id.PadRight(idWidth)).Append("   ").Append(f.Path.PadRight(pathWidth)).Append("   ").Append(f.Message).Append('\n');
                var indent = new string(' ', 2 + idWidth + 3);
                text.Append(indent).Append("gains: ").Append(f.Gain).Append('\n');
                if (f.Fix.Flag == "none")
                {
                    text.Append(indent).Append("fix:   ").Append(f.Fix.Change).Append('\n');
                    continue;
                }
                text.Append(indent).Append("fix:   ").Append(f.Fix.Flag).Append('\n');
                text.Append(indent).Append("       ").Append(f.Fix.Change).Append('\n');
            }
            text.Append('\n');
        }
        var waived = report.Findings.Where(f => f.IsWaived).ToList();
        if (waived.Count > 0)
        {
            text.Append($"WAIVED ({waived.Count})\n");
            foreach (var f in waived)
                text.Append("  ").Append(f.Rule.Id).Append("   ").Append(f.Severity.Name()).Append("   ").Append(f.Path).Append("   ").Append(f.Message)
                    .Append("   (waived: ").Append(f.WaivedBecause).Append(")\n");
            text.Append('\n');
        }
        var notApplicable = report.Outcomes.Where(o => o.Status == CheckStatus.NotApplicable).ToList();
        foreach (var o in notApplicable)
            text.Append($"not checked: {o.Rule.Id} {o.Rule.Title}: {o.Reason}\n");
        var failing = report.Failing(failOn).Count();
        var passed = report.Outcomes.Count(o => o.Status == CheckStatus.Passed);
        text.Append($"{report.Subject}: {active.Count} finding{(active.Count == 1 ? "" : "s")} ({Count(active, AuditSeverity.Critical)} critical, {Count(active, AuditSeverity.High)} high, {Count(active, AuditSeverity.Medium)} medium, {Count(active, AuditSeverity.Low)} low), {waived.Count} waived; {passed} of {report.Outcomes.Count} checks passed; ");
        text.Append(failing == 0 ? $"nothing at or above {failOn.Name()}\n" : $"{failing} at or above {failOn.Name()}: failed\n");
        return text.ToString();
    }

    static int Count(List<AuditFinding> findings, AuditSeverity severity) => findings.Count(f => f.Severity == severity);

    static string Paint(string text, AuditSeverity severity, bool colour)
    {
        if (!colour) return text;
        var code = severity switch
        {
            AuditSeverity.Critical => "1;35",
            AuditSeverity.High => "1;31",
            AuditSeverity.Medium => "1;33",
            _ => "1;36",
        };
        return $"\u001b[{code}m{text}\u001b[0m";
    }
}
