namespace Moat.Images.Distribution;

/// <summary>
/// What the client learned about one registry host: the base URI that answered (https, or http for an
/// insecure registry that does not speak TLS) and the authentication challenge of its /v2/ endpoint.
/// </summary>
internal sealed class RegistryHost(string name, string apiHost, bool insecure)
{
    /// <summary>The registry as the user names it (docker.io).</summary>
    public string Name { get; } = name;
    /// <summary>The host the API is on (registry-1.docker.io for docker.io).</summary>
    public string ApiHost { get; } = apiHost;
    /// <summary>Plain HTTP and unverified TLS allowed.</summary>
    public bool Insecure { get; } = insecure;
    public volatile Uri? BaseUri;
    /// <summary>The last challenge seen; null while the registry has asked for no authentication.</summary>
    public volatile AuthChallenge? Challenge;
    public readonly SemaphoreSlim PingLock = new(1, 1);
}
