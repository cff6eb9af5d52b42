namespace Moat.Runtime;

/// <summary>A failure the user should read as-is: a clear sentence, no stack trace.</summary>
public class RuntimeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The container does not exist.</summary>
public sealed class ContainerNotFoundException(string id) : RuntimeException($"container \"{id}\" does not exist");
