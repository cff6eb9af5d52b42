namespace Moat.Images.References;

/// <summary>An image reference that does not follow the docker reference grammar; the message says what and why.</summary>
public sealed class InvalidReferenceException(string message) : FormatException(message);
