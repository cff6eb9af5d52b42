using Moat.Oci.Diagnostics;

namespace Moat.Oci;

/// <summary>A config.json that cannot be read, parsed or accepted; the message names the file or field at fault.</summary>
public class SpecException : Exception
{
    public SpecException(string message)
        : base(message)
    {
    }

    public SpecException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>A config the validator refused: the message is the first error (and how many more), <see cref="Diagnostics"/> has them all.</summary>
    public SpecException(DiagnosticList diagnostics)
        : base(diagnostics.DescribeErrors())
    {
        Diagnostics = diagnostics;
    }

    /// <summary>Every finding of the validation that refused the config; empty for a config that could not be read.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; } = [];
}
