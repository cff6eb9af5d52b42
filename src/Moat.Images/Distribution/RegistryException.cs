namespace Moat.Images.Distribution;

/// <summary>What kind of failure a registry operation met, for callers that choose an exit code or a retry.</summary>
public enum RegistryErrorKind
{
    /// <summary>No route, refused, reset, or timed out.</summary>
    Network,
    /// <summary>TLS handshake or certificate verification failed, or plain HTTP to a registry not marked insecure.</summary>
    Tls,
    /// <summary>401: no or wrong credentials.</summary>
    Unauthorized,
    /// <summary>403: the credentials are valid but not allowed this.</summary>
    Denied,
    /// <summary>404: manifest, blob or repository unknown.</summary>
    NotFound,
    /// <summary>Content that does not match its digest or size.</summary>
    DigestMismatch,
    /// <summary>An answer that does not follow the distribution spec (garbage, schema 1, wrong status).</summary>
    Protocol,
    /// <summary>5xx, or 429 after retries.</summary>
    Server,
    /// <summary>An image index without the requested platform.</summary>
    PlatformNotFound,
}

/// <summary>A registry operation that failed; the message is one sentence naming the registry and the reference.</summary>
public sealed class RegistryException(RegistryErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public RegistryErrorKind Kind { get; } = kind;
    /// <summary>The HTTP status when the registry answered one.</summary>
    public int? StatusCode { get; init; }
    /// <summary>The first distribution-spec error code of the body (MANIFEST_UNKNOWN, UNAUTHORIZED ...), when there was one.</summary>
    public string? ErrorCode { get; init; }
}
