namespace Moat.Network;

/// <summary>A network request that cannot be met, as one sentence for the user.</summary>
public sealed class NetworkException(string message, Exception? inner = null) : Exception(message, inner);
