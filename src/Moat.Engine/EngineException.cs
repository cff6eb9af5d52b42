namespace Moat.Engine;

/// <summary>A container operation that cannot be done as asked; the message is one sentence for the user.</summary>
public class EngineException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No container has that name or id (prefix).</summary>
public sealed class NoSuchContainerException(string reference) : EngineException($"no such container: {reference}");
