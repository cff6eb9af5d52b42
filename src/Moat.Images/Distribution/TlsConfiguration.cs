using Moat.Oci;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Moat.Images.Distribution;

/// <summary>
/// The certificates one registry host uses, found as podman finds them: `*.crt` files are extra CAs (trusted
/// beside the system's), and a `NAME.cert` with its `NAME.key` is a client certificate.
/// </summary>
internal sealed class TlsConfiguration
{
    public X509Certificate2Collection Authorities { get; } = [];
    public X509Certificate2Collection ClientCertificates { get; } = [];
    public List<string> Directories { get; } = [];

    public static TlsConfiguration For(string host, RegistryClientOptions options)
    {
        var configuration = new TlsConfiguration();
        if (options.CertDirectory is { } explicitDirectory)
            configuration.Load(explicitDirectory, mustExist: true);
        else
            foreach (var root in options.CertsDirectories)
                configuration.Load(Path.Combine(root, host), mustExist: false);
        return configuration;
    }

    void Load(string directory, bool mustExist)
    {
        if (!Directory.Exists(directory))
        {
            if (mustExist) throw new RegistryException(RegistryErrorKind.Tls, $"certificate directory {directory} does not exist");
            return;
        }
        Directories.Add(directory);
        foreach (var file in Directory.GetFiles(directory).Order(StringComparer.Ordinal))
        {
            try
            {
                if (file.EndsWith(".crt", StringComparison.Ordinal))
                    Authorities.ImportFromPemFile(file);
                else if (file.EndsWith(".cert", StringComparison.Ordinal))
                {
                    var key = file[..^".cert".Length] + ".key";
                    if (!File.Exists(key)) throw new RegistryException(RegistryErrorKind.Tls, $"client certificate {file} has no key {Path.GetFileName(key)} beside it");
                    ClientCertificates.Add(X509Certificate2.CreateFromPemFile(file, key));
                }
                else if (file.EndsWith(".key", StringComparison.Ordinal) && !File.Exists(file[..^".key".Length] + ".cert"))
                    throw new RegistryException(RegistryErrorKind.Tls, $"client key {file} has no certificate {Path.GetFileName(file[..^".key".Length])}.cert beside it");
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new RegistryException(RegistryErrorKind.Tls, $"cannot load certificate {file}: {ErrorText.Reason(e)}", e);
            }
        }
    }

    /// <summary>
    /// Accepts what the system trusts, and otherwise a chain that ends at one of this host's extra CAs;
    /// a name mismatch is never accepted unless verification is off.
    /// </summary>
    public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, bool verify)
    {
        if (!verify || errors == SslPolicyErrors.None) return true;
        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || Authorities.Count == 0 || certificate is null) return false;
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
            foreach (var element in chain.ChainElements)
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
