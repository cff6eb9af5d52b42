using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Moat.Tests.Images.Registry;

/// <summary>
/// A docker token service for the registry's `auth: token:` mode, in the test process: it checks basic
/// credentials, grants every requested action to the right user and nothing to anyone else, and signs RS256
/// JWTs whose `x5c` header carries the signing certificate (distribution verifies it against rootcertbundle).
/// </summary>
public sealed class TokenIssuer : IDisposable
{
    readonly HttpListener listener = new();
    readonly RSA key;
    readonly string certificateBase64;
    readonly string username, password;
    int requests;

    public const string Service = "moat-test-registry";
    public const string Issuer = "moat-test-issuer";
    public string Realm { get; }
    public int Requests => Volatile.Read(ref requests);
    /// <summary>Every scope parameter asked for, in order.</summary>
    public List<string> Scopes { get; } = [];
    /// <summary>Token lifetime in seconds (expires_in).</summary>
    public int Lifetime { get; set; } = 300;
    /// <summary>Answer `access_token` (OAuth2's name) instead of `token`.</summary>
    public bool AnswerAccessToken { get; set; }

    public TokenIssuer(string keyPemPath, string certificatePemPath, string username, string password)
    {
        key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(keyPemPath));
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePemPath));
        certificateBase64 = Convert.ToBase64String(certificate.RawData);
        this.username = username;
        this.password = password;
        var port = Tool.FreePort();
        Realm = $"http://127.0.0.1:{port}/token";
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try { Answer(context); }
            catch (Exception e) when (e is HttpListenerException or IOException) { }
        }
    }

    void Answer(HttpListenerContext context)
    {
        Interlocked.Increment(ref requests);
        var request = context.Request;
        var response = context.Response;
        string? account = null;
        if (request.Headers["Authorization"] is { } authorization && authorization.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..])).Split(':', 2);
            if (pair.Length != 2 || pair[0] != username || pair[1] != password)
            {
                response.StatusCode = 401;
                Write(response, """{"errors":[{"code":"UNAUTHORIZED","message":"invalid username or password"}]}""");
                return;
            }
            account = pair[0];
        }
        var scopes = request.QueryString.GetValues("scope") ?? [];
        lock (Scopes) Scopes.AddRange(scopes);
        var access = new JsonArray();
        if (account is not null)
            foreach (var scope in scopes)
            {
                // repository:NAME:ACTIONS (NAME has no ':' in these tests)
                var parts = scope.Split(':');
                if (parts.Length != 3) continue;
                access.Add((JsonNode)new JsonObject
                {
                    ["type"] = parts[0], ["name"] = parts[1],
                    ["actions"] = new JsonArray(parts[2].Split(',').Select(a => (JsonNode)JsonValue.Create(a)!).ToArray()),
                });
            }
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "RS256", ["x5c"] = new JsonArray(certificateBase64) };
        var claims = new JsonObject
        {
            ["iss"] = Issuer, ["sub"] = account ?? "", ["aud"] = request.QueryString["service"] ?? "",
            ["exp"] = now + Lifetime, ["nbf"] = now - 5, ["iat"] = now, ["jti"] = Guid.NewGuid().ToString("N"), ["access"] = access,
        };
        var signingInput = $"{Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString()))}.{Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()))}";
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var token = $"{signingInput}.{Base64Url(signature)}";
        var body = new JsonObject { [AnswerAccessToken ? "access_token" : "token"] = token, ["expires_in"] = Lifetime, ["issued_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ") };
        response.StatusCode = 200;
        response.ContentType = "application/json";
        Write(response, body.ToJsonString());
    }

    static void Write(HttpListenerResponse response, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
        response.Close();
    }

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        key.Dispose();
    }
}
