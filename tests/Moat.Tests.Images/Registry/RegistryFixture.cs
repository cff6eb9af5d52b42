using Moat.Images.Auth;
using Moat.Images.Distribution;
using Moat.Images.Registries;

namespace Moat.Tests.Images.Registry;

/// <summary>Tests that use the registries join this collection (one set of servers for all of them).</summary>
[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "registry";
}

/// <summary>
/// Three real registries on 127.0.0.1 (Debian's docker-registry): plain HTTP; TLS with a CA this fixture makes
/// with openssl (server certificate for 127.0.0.1 and localhost, client certificates required) plus htpasswd
/// basic auth; and bearer tokens from a <see cref="TokenIssuer"/> in the test process. Everything lives in one
/// temp directory, removed on dispose with the processes.
/// </summary>
public sealed class RegistryFixture : IDisposable
{
    public const string Username = "moat";
    public const string Password = "moat-test-password";

    public string Directory { get; }
    public RegistryServer Plain { get; }
    public RegistryServer Tls { get; }
    public RegistryServer Token { get; }
    public TokenIssuer Issuer { get; }
    /// <summary>A certs.d-style root: `HOST:PORT/ca.crt`, `client.cert`, `client.key` for the TLS registry.</summary>
    public string CertsRoot { get; }
    public string CaCertificate { get; }
    /// <summary>The TLS registry's own directory under <see cref="CertsRoot"/> (skopeo's --cert-dir).</summary>
    public string TlsCertDirectory => Path.Combine(CertsRoot, Tls.Host);

    public RegistryFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("moat-registries-").FullName;
        try
        {
            var pki = Path.Combine(Directory, "pki");
            System.IO.Directory.CreateDirectory(pki);
            CaCertificate = Path.Combine(pki, "ca.crt");
            MakeCertificates(pki);
            var htpasswd = Path.Combine(Directory, "htpasswd");
            File.WriteAllText(htpasswd, Tool.Run("htpasswd", "-Bbn", Username, Password));

            Plain = new RegistryServer(RegistryMode.PlainHttp, Sub("plain"), "", tls: false);
            Tls = new RegistryServer(RegistryMode.TlsBasicAuth, Sub("tls"), $"""
                  tls:
                    certificate: {pki}/server.crt
                    key: {pki}/server.key
                    clientcas:
                      - {pki}/ca.crt
                auth:
                  htpasswd:
                    realm: moat-test
                    path: {htpasswd}
                """, tls: true);
            Issuer = new TokenIssuer(Path.Combine(pki, "token.key"), Path.Combine(pki, "token.crt"), Username, Password);
            Token = new RegistryServer(RegistryMode.TokenAuth, Sub("token"), $"""
                auth:
                  token:
                    realm: {Issuer.Realm}
                    service: {TokenIssuer.Service}
                    issuer: {TokenIssuer.Issuer}
                    rootcertbundle: {pki}/token.crt
                """, tls: false);

            CertsRoot = Path.Combine(Directory, "certs.d");
            foreach (var host in new[] { Tls.Host, $"localhost:{Tls.Port}" })
            {
                var hostDirectory = Path.Combine(CertsRoot, host);
                System.IO.Directory.CreateDirectory(hostDirectory);
                File.Copy(CaCertificate, Path.Combine(hostDirectory, "ca.crt"));
                File.Copy(Path.Combine(pki, "client.crt"), Path.Combine(hostDirectory, "client.cert"));
                File.Copy(Path.Combine(pki, "client.key"), Path.Combine(hostDirectory, "client.key"));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    string Sub(string name)
    {
        var path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    static void MakeCertificates(string pki)
    {
        string P(string name) => Path.Combine(pki, name);
        Tool.Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", P("ca.key"), "-out", P("ca.crt"), "-days", "2",
            "-subj", "/CN=Moat Test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        File.WriteAllText(P("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
        File.WriteAllText(P("client.ext"), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n");
        foreach (var (name, subject) in new[] { ("server", "/CN=127.0.0.1"), ("client", "/CN=moat-test-client") })
        {
            Tool.Run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", P($"{name}.key"), "-out", P($"{name}.csr"), "-subj", subject);
            Tool.Run("openssl", "x509", "-req", "-in", P($"{name}.csr"), "-CA", P("ca.crt"), "-CAkey", P("ca.key"), "-CAcreateserial",
                "-out", P($"{name}.crt"), "-days", "2", "-extfile", P($"{name}.ext"));
        }
        // The token issuer signs with a self-signed certificate that is the registry's rootcertbundle.
        Tool.Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", P("token.key"), "-out", P("token.crt"), "-days", "2",
            "-subj", "/CN=Moat Test Token Issuer");
    }

    /// <summary>
    /// A registries.conf marking the plain and token registries insecure (they speak HTTP), as podman would need;
    /// <paramref name="topLevel"/> goes before the tables (unqualified-search-registries, say).
    /// </summary>
    public RegistriesConfig RegistriesConfig(string topLevel = "") => Moat.Images.Registries.RegistriesConfig.Parse($"""
        {topLevel}
        [[registry]]
        location = "{Plain.Host}"
        insecure = true
        [[registry]]
        location = "{Token.Host}"
        insecure = true
        """, Path.Combine(Directory, "registries.conf"));

    /// <summary>Client options for these registries: their CAs and client certificate, the right credentials, or other ones.</summary>
    public RegistryClientOptions ClientOptions(string? username = Username, string? password = Password) => new()
    {
        Registries = RegistriesConfig(),
        CertsDirectories = [CertsRoot],
        Credentials = username is null ? null : (_, _) => new RegistryCredential(username, password!),
        RetryDelay = TimeSpan.FromMilliseconds(100),
    };

    /// <summary>skopeo's flags to reach a registry as destination (or source, with prefix "src").</summary>
    public string[] SkopeoFlags(RegistryServer server, string side) => server.Mode switch
    {
        RegistryMode.PlainHttp => [$"--{side}-tls-verify=false"],
        RegistryMode.TlsBasicAuth => [$"--{side}-cert-dir={TlsCertDirectory}", $"--{side}-creds={Username}:{Password}"],
        _ => [$"--{side}-tls-verify=false", $"--{side}-creds={Username}:{Password}"],
    };

    /// <summary>`skopeo copy` of a test image into a registry (all platforms of an index).</summary>
    public void Push(string skopeoSource, RegistryServer server, string repositoryAndTag, bool all = false)
    {
        string[] arguments = ["--insecure-policy", "copy", "--quiet", .. all ? new[] { "--all" } : [], .. SkopeoFlags(server, "dest"),
            skopeoSource, $"docker://{server.Host}/{repositoryAndTag}"];
        Tool.Run("skopeo", arguments);
    }

    /// <summary>`skopeo inspect --raw`: the manifest bytes the registry serves, read by another client than ours.</summary>
    public string InspectRaw(RegistryServer server, string reference) =>
        Tool.Run("skopeo", ["--insecure-policy", "inspect", "--raw", .. SkopeoFlags(server, "src").Select(f => f.Replace("--src-", "--")), $"docker://{server.Host}/{reference}"]);

    public void Dispose()
    {
        Plain?.Dispose();
        Tls?.Dispose();
        Token?.Dispose();
        Issuer?.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
