namespace Moat.Oci.Diagnostics;

/// <summary>
/// One finding about a document: where (a JSON path such as <c>linux.devices[2].fileMode</c>, the
/// document's root left out), how serious, what is wrong, and what to change where there is one
/// clear change. Any rule set (validation, a security audit) reports in this form.
/// </summary>
public sealed record Diagnostic(string Path, DiagnosticSeverity Severity, string Message, string? Fix = null)
{
    /// <summary>"path: message", the form of the runtime's error lines.</summary>
    public override string ToString() => $"{Path}: {Message}";
}
