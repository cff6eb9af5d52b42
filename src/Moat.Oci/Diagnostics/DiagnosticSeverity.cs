namespace Moat.Oci.Diagnostics;

/// <summary>How much a finding matters: an error refuses the config, a warning is reported and accepted.</summary>
public enum DiagnosticSeverity
{
    Error,
    Warning,
}
