namespace Moat.Audit.Findings;

/// <summary>
/// What a rule checks, independent of any document: its stable id (MOAT-A… for containers, MOAT-H…
/// for hosts), a title, the severity it usually reports, where it comes from (a CIS Docker Benchmark
/// v1.6.0 item such as "CIS 5.21", or "practice") and why it matters.
/// </summary>
public sealed record RuleInfo(string Id, string Title, AuditSeverity Severity, string Source, string Rationale);
