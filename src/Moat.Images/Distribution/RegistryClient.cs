using Moat.Oci;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using Moat.Images.Auth;
using Moat.Images.Registries;

namespace Moat.Images.Distribution;

/// <summary>
/// A client of the OCI distribution API (v1.1), speaking to registries as skopeo and podman do: TLS with the
/// system's and certs.d's CAs, plain HTTP only for insecure registries, anonymous, basic and bearer-token
/// authentication from the registry's challenge. One instance serves many registries and parallel requests:
/// it keeps one connection pool per host (HTTP/1.1 keep-alive) and caches tokens per scope.
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    readonly RegistryClientOptions options;
    readonly ConcurrentDictionary<string, HttpClient> clients = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, RegistryHost> hosts = new(StringComparer.Ordinal);
    readonly TokenCache tokens = new();

    public RegistryClient(RegistryClientOptions? options = null) => this.options = options ?? new RegistryClientOptions();

    public RegistryClientOptions Options => options;

    public void Dispose()
    {
        foreach (var client in clients.Values) client.Dispose();
        clients.Clear();
    }

    /// <summary>Docker Hub's API is not on docker.io itself.</summary>
    internal static string ApiHostOf(string registry) => registry == References.ImageReference.DockerHub ? "registry-1.docker.io" : registry;

    bool IsInsecure(RemoteRepository repository) => options.TlsVerify == false || repository.Insecure;

    RegistryHost HostOf(RemoteRepository repository)
    {
        var insecure = IsInsecure(repository);
        return hosts.GetOrAdd($"{repository.Registry}|{insecure}", _ => new RegistryHost(repository.Registry, ApiHostOf(repository.Registry), insecure));
    }

    /// <summary>One pooled client per host and verification mode, with redirects left to the caller (Authorization must not follow them).</summary>
    HttpClient ClientFor(string authority, bool verify)
    {
        return clients.GetOrAdd($"{authority}|{verify}", _ =>
        {
            var tls = TlsConfiguration.For(authority, options);
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                UseCookies = false,
                ConnectTimeout = options.ConnectTimeout,
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
                PooledConnectionLifetime = TimeSpan.FromMinutes(10),
                SslOptions =
                {
                    RemoteCertificateValidationCallback = (_, certificate, chain, errors) => tls.Validate(certificate, chain, errors, verify),
                    ClientCertificates = tls.ClientCertificates.Count > 0 ? tls.ClientCertificates : null,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                },
            };
            var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
            return client;
        });
    }

    /// <summary>
    /// Finds how to reach the registry (GET /v2/): https first; for an insecure registry unverified https, then
    /// plain http. Remembers the answer and the authentication challenge. A failure is not remembered, so a
    /// registry that was down is asked again.
    /// </summary>
    async Task<Uri> PingAsync(RegistryHost host, CancellationToken cancellation)
    {
        if (host.BaseUri is { } known) return known;
        await host.PingLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (host.BaseUri is { } raced) return raced;
            var https = new Uri($"https://{host.ApiHost}");
            Exception? httpsFailure;
            try
            {
                await PingAt(host, https, verify: !host.Insecure, cancellation).ConfigureAwait(false);
                return host.BaseUri = https;
            }
            catch (RegistryException e) when (e.Kind is RegistryErrorKind.Network or RegistryErrorKind.Tls) { httpsFailure = e; }
            if (!host.Insecure)
                throw httpsFailure is RegistryException { Kind: RegistryErrorKind.Tls } tls
                    ? new RegistryException(RegistryErrorKind.Tls, $"{ErrorText.Reason(tls)} (if {host.Name} speaks plain HTTP or has a certificate of its own, mark it insecure in registries.conf or use --tls-verify=false)", tls.InnerException)
                    : httpsFailure;
            var http = new Uri($"http://{host.ApiHost}");
            await PingAt(host, http, verify: false, cancellation).ConfigureAwait(false);
            return host.BaseUri = http;
        }
        finally { host.PingLock.Release(); }
    }

    async Task PingAt(RegistryHost host, Uri baseUri, bool verify, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(options.RequestTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/v2/"));
        using var response = await Send(ClientFor(baseUri.Authority, verify), request, HttpCompletionOption.ResponseHeadersRead, host.Name, timeout.Token, cancellation).ConfigureAwait(false);
        switch (response.StatusCode)
        {
            case HttpStatusCode.OK:
                host.Challenge = null;
                return;
            case HttpStatusCode.Unauthorized:
                host.Challenge = ChooseChallenge(response);
                return;
            case HttpStatusCode.NotFound:
                throw new RegistryException(RegistryErrorKind.Protocol, $"{host.Name} is not a container registry: {baseUri}v2/ answered 404") { StatusCode = 404 };
            default:
                // Some registries answer /v2/ oddly but serve the API: go on and let the real request decide.
                return;
        }
    }

    /// <summary>Bearer is preferred over Basic when a registry offers both.</summary>
    static AuthChallenge? ChooseChallenge(HttpResponseMessage response)
    {
        if (!response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values)) return null;
        var challenges = AuthChallenge.Parse(values);
        return challenges.FirstOrDefault(c => c.IsBearer) ?? challenges.FirstOrDefault(c => c.IsBasic);
    }

    /// <summary>Sends one request, turning transport failures into sentences that name the registry.</summary>
    static async Task<HttpResponseMessage> Send(HttpClient client, HttpRequestMessage request, HttpCompletionOption completion, string registry, CancellationToken timeout, CancellationToken caller)
    {
        try
        {
            return await client.SendAsync(request, completion, timeout).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!caller.IsCancellationRequested)
        {
            throw new RegistryException(RegistryErrorKind.Network, $"{registry} did not answer {request.Method} {request.RequestUri} in time", e);
        }
        catch (HttpRequestException e)
        {
            throw TransportError(e, registry, request.RequestUri!);
        }
    }

    internal static RegistryException TransportError(Exception e, string registry, Uri uri)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
            if (inner is AuthenticationException)
                return new RegistryException(RegistryErrorKind.Tls, $"TLS with {registry} ({uri.GetLeftPart(UriPartial.Authority)}) failed: {ErrorText.Reason(Innermost(e))}", e);
        return new RegistryException(RegistryErrorKind.Network, $"cannot reach {registry} ({uri.GetLeftPart(UriPartial.Authority)}): {ErrorText.Reason(Innermost(e))}", e);
    }

    static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    /// <summary>
    /// Sends a request to a repository with the authentication its registry asks for: the request is built
    /// again for the retry after a 401 (a refused cached token, or a registry that started asking).
    /// The 401 that remains is returned for the caller to word.
    /// </summary>
    async Task<HttpResponseMessage> SendAuthorized(RemoteRepository repository, string[] scopes, Func<Uri, HttpRequestMessage> build,
        HttpCompletionOption completion, CancellationToken timeout, CancellationToken caller)
    {
        var host = HostOf(repository);
        var baseUri = await PingAsync(host, timeout).ConfigureAwait(false);
        var client = ClientFor(baseUri.Authority, verify: !host.Insecure);
        for (var attempt = 0; ; attempt++)
        {
            var request = build(baseUri);
            // Credentials go to the registry's own host only, never to another host an upload location names.
            var used = request.RequestUri!.Authority == baseUri.Authority
                ? await AuthorizeAsync(request, host, repository, scopes, refresh: attempt > 0, timeout).ConfigureAwait(false)
                : null;
            HttpResponseMessage response;
            try { response = await Send(client, request, completion, host.Name, timeout, caller).ConfigureAwait(false); }
            finally { request.Dispose(); }
            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0) return response;
            var challenge = ChooseChallenge(response);
            if (challenge is null) return response;
            if (used is { } token) tokens.Invalidate(token.Key, token.Token);
            var changed = host.Challenge?.ToString() != challenge.ToString();
            host.Challenge = challenge;
            // A fresh token for the same scopes, or the first authentication after an anonymous answer.
            if (!changed && used is null) return response;
            if (challenge.IsBearer && challenge["scope"] is { Length: > 0 } asked)
                scopes = scopes.Union(asked.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
            response.Dispose();
        }
    }

    /// <summary>Adds the Authorization header for the host's challenge; returns the bearer token used, if any.</summary>
    async Task<(string Key, BearerToken Token)?> AuthorizeAsync(HttpRequestMessage request, RegistryHost host, RemoteRepository repository,
        string[] scopes, bool refresh, CancellationToken cancellation)
    {
        var challenge = host.Challenge;
        if (challenge is null) return null;
        var credential = options.Credentials?.Invoke(repository.Registry, repository.Repository);
        if (challenge.IsBasic)
        {
            if (credential is not null) request.Headers.Authorization = BasicHeader(credential);
            return null;
        }
        if (!challenge.IsBearer) return null;
        var realm = challenge["realm"];
        if (string.IsNullOrEmpty(realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme is not ("https" or "http"))
            throw new RegistryException(RegistryErrorKind.Protocol, $"{host.Name} asks for a bearer token without a usable realm ('{realm}')");
        var service = challenge["service"];
        var sorted = scopes.Order(StringComparer.Ordinal).ToArray();
        var key = $"{realm}|{service}|{string.Join(' ', sorted)}|{credential?.Username}";
        var token = await tokens.GetAsync(key, refresh, () => FetchTokenAsync(host, realmUri, service, sorted, credential, cancellation)).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
        return (key, token);
    }

    static AuthenticationHeaderValue BasicHeader(RegistryCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));

    async Task<BearerToken> FetchTokenAsync(RegistryHost host, Uri realm, string? service, string[] scopes, RegistryCredential? credential, CancellationToken cancellation)
    {
        var query = new StringBuilder(realm.Query.Length > 1 ? realm.Query[1..] + "&" : "");
        if (!string.IsNullOrEmpty(service)) query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        foreach (var scope in scopes) query.Append("scope=").Append(Uri.EscapeDataString(scope)).Append('&');
        var uri = new UriBuilder(realm) { Query = query.ToString().TrimEnd('&') }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (credential is not null) request.Headers.Authorization = BasicHeader(credential);
        request.Headers.Accept.ParseAdd("application/json");
        var started = DateTimeOffset.UtcNow;
        var verify = options.TlsVerify != false && !(realm.Authority == host.ApiHost && host.Insecure);
        using var response = await Send(ClientFor(realm.Authority, verify), request, HttpCompletionOption.ResponseContentRead, host.Name, cancellation, cancellation).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellation).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw new RegistryException(RegistryErrorKind.Unauthorized, credential is null
                ? $"authentication required: {host.Name}'s token service refused anonymous access to {string.Join(", ", scopes)} (log in with `moat login {host.Name}`)"
                : $"unauthorized: {host.Name}'s token service refused the credentials of '{credential.Username}' (check `moat login {host.Name}`)") { StatusCode = (int)response.StatusCode };
        if (!response.IsSuccessStatusCode)
            throw new RegistryException((int)response.StatusCode >= 500 ? RegistryErrorKind.Server : RegistryErrorKind.Protocol,
                $"{host.Name}'s token service at {realm.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode} {response.ReasonPhrase}{ErrorDetail(body)}") { StatusCode = (int)response.StatusCode };
        TokenResponse? parsed;
        try { parsed = JsonSerializer.Deserialize(body, DistributionJsonContext.Default.TokenResponse); }
        catch (JsonException e) { throw new RegistryException(RegistryErrorKind.Protocol, $"{host.Name}'s token service at {realm.GetLeftPart(UriPartial.Path)} answered something that is not a token (not JSON: {ErrorText.Reason(e)})", e); }
        var value = parsed?.Token is { Length: > 0 } t ? t : parsed?.AccessToken;
        if (string.IsNullOrEmpty(value))
            throw new RegistryException(RegistryErrorKind.Protocol, $"{host.Name}'s token service at {realm.GetLeftPart(UriPartial.Path)} answered without a token");
        // The token spec's default lifetime is 60 seconds.
        var lifetime = TimeSpan.FromSeconds(parsed!.ExpiresIn is > 0 and var s ? s : 60);
        var issued = parsed.IssuedAt is { } at && at <= DateTimeOffset.UtcNow.AddMinutes(1) ? at : started;
        return new BearerToken(value, issued + lifetime);
    }

    /// <summary>Scopes as the token spec writes them.</summary>
    static string[] PullScope(RemoteRepository repository) => [$"repository:{repository.Repository}:pull"];
    static string[] PushScope(RemoteRepository repository) => [$"repository:{repository.Repository}:pull,push"];

    /// <summary>
    /// The sentence for a failed answer: 401 says how to log in, 404 names what was not found, 5xx and
    /// garbage name the registry; the spec's error body is quoted when there is one.
    /// </summary>
    async Task<RegistryException> ErrorFromAsync(HttpResponseMessage response, RemoteRepository repository, string what, CancellationToken cancellation)
    {
        byte[] body;
        try { body = await ReadLimitedAsync(response.Content, 64 * 1024, cancellation).ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or HttpRequestException) { body = []; }
        var (code, detail) = ParseError(body);
        var status = (int)response.StatusCode;
        var registry = repository.Registry;
        var credential = options.Credentials?.Invoke(repository.Registry, repository.Repository);
        var (kind, sentence) = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized when credential is null => (RegistryErrorKind.Unauthorized,
                $"authentication required: {registry} refused anonymous access to {what} (log in with `moat login {registry}`)"),
            HttpStatusCode.Unauthorized => (RegistryErrorKind.Unauthorized,
                $"unauthorized: {registry} refused the credentials of '{credential.Username}' for {what} (check `moat login {registry}`)"),
            HttpStatusCode.Forbidden => (RegistryErrorKind.Denied, $"{registry} denied access to {what}"),
            HttpStatusCode.NotFound => (RegistryErrorKind.NotFound, $"{what} was not found on {registry}"),
            _ when status >= 500 => (RegistryErrorKind.Server, $"{registry} failed with {status} {response.ReasonPhrase} for {what}"),
            HttpStatusCode.TooManyRequests => (RegistryErrorKind.Server, $"{registry} is rate-limiting requests (429) for {what}"),
            _ => (RegistryErrorKind.Protocol, $"{registry} answered {status} {response.ReasonPhrase} for {what}"),
        };
        if (detail is not null) sentence += $" ({detail})";
        else if (body.Length > 0 && status >= 500) sentence += " (its answer was not a registry error message)";
        return new RegistryException(kind, sentence) { StatusCode = status, ErrorCode = code };
    }

    static string ErrorDetail(byte[] body) => ParseError(body).Detail is { } d ? $" ({d})" : "";

    static (string? Code, string? Detail) ParseError(byte[] body)
    {
        if (body.Length == 0 || body[0] is not ((byte)'{' or (byte)' ' or (byte)'\n')) return (null, null);
        try
        {
            var parsed = JsonSerializer.Deserialize(body, DistributionJsonContext.Default.ErrorResponse);
            if (parsed?.Errors is not { Count: > 0 } errors) return (null, null);
            var text = string.Join("; ", errors.Select(e => e.Message is { Length: > 0 } m ? $"{e.Code}: {m}" : e.Code ?? "unknown error"));
            return (errors[0].Code, Printable(text, 300));
        }
        catch (JsonException) { return (null, null); }
    }

    /// <summary>A registry's text in our sentence: control characters dropped, long text cut.</summary>
    static string Printable(string text, int max)
    {
        var clean = new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return clean.Length > max ? clean[..max] + "..." : clean;
    }

    /// <summary>Reads a body up to a limit; longer bodies are refused, not truncated.</summary>
    static async Task<byte[]> ReadLimitedAsync(HttpContent content, int limit, CancellationToken cancellation)
    {
        if (content.Headers.ContentLength is > 0 and var length && length > limit)
            throw new IOException($"the answer is {length} bytes, more than the {limit} allowed");
        await using var stream = await content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellation).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit) throw new IOException($"the answer is more than the {limit} bytes allowed");
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    CancellationTokenSource RequestTimeout(CancellationToken cancellation)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(options.RequestTimeout);
        return timeout;
    }
}
