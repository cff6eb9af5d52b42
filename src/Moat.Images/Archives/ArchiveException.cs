namespace Moat.Images.Archives;

/// <summary>An archive cannot be read or written; the message says which and why.</summary>
public sealed class ArchiveException(string message, Exception? inner = null) : Exception(message, inner);
