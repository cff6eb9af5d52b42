namespace Moat.Engine.Run.Flags;

/// <summary>A `run`/`create` flag's value is wrong or conflicts with another; the message is one sentence naming the flag.</summary>
public sealed class RunFlagException(string message) : Exception(message);
