namespace Moat.Audit.Findings;

/// <summary>The exact change that removes a finding: the podman/docker flag and the config.json (or host) change.</summary>
public sealed record AuditFix(string Flag, string Change);
