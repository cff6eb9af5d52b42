using Moat.Images.Auth;
using Moat.Images.Registries;

namespace Moat.Images.Distribution;

/// <summary>How a <see cref="RegistryClient"/> connects and authenticates.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Search registries, mirrors, insecure and blocked registries.</summary>
    public RegistriesConfig Registries { get; init; } = RegistriesConfig.Empty();
    /// <summary>Credentials for a registry (and repository), null for anonymous. Usually <see cref="CredentialStore.Find"/>.</summary>
    public Func<string, string, RegistryCredential?>? Credentials { get; init; }
    /// <summary>`--tls-verify`: false skips verification and allows plain HTTP everywhere; null follows registries.conf.</summary>
    public bool? TlsVerify { get; init; }
    /// <summary>Directories holding one `HOST[:PORT]` directory of CAs (`*.crt`) and client certificates (`*.cert` + `*.key`) each.</summary>
    public IReadOnlyList<string> CertsDirectories { get; init; } = ["/etc/containers/certs.d", "/etc/docker/certs.d"];
    /// <summary>`--cert-dir`: one directory used for every registry, instead of the per-host lookup.</summary>
    public string? CertDirectory { get; init; }
    /// <summary>The platform an index is resolved to.</summary>
    public PlatformSpec Platform { get; init; } = PlatformSpec.Host;
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>A whole small request (ping, token, manifest, tags) may take this long.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>A blob download or upload fails (and a download retries) when no byte moves for this long.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Attempts for one blob download after a broken connection, each resuming where the last stopped.</summary>
    public int BlobAttempts { get; init; } = 6;
    /// <summary>The first wait between blob attempts; it doubles each time.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>The copy buffer of a blob transfer.</summary>
    public int BufferSize { get; init; } = 1 << 20;
    /// <summary>Sent as User-Agent.</summary>
    public string UserAgent { get; init; } = "moat";
}
