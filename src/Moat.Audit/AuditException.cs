namespace Moat.Audit;

/// <summary>An audit that cannot be made (bad waivers, an unreadable bundle): the message is the sentence users see.</summary>
public sealed class AuditException(string message, Exception? inner = null) : Exception(message, inner);
