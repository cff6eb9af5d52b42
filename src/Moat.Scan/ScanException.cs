namespace Moat.Scan;

/// <summary>A scan, an SBOM or a database import that cannot go on: the message is the sentence the user sees.</summary>
public sealed class ScanException(string message, Exception? inner = null) : Exception(message, inner);
