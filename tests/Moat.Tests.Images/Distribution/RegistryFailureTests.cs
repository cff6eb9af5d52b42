using System.Text;
using Moat.Images.Auth;
using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Registries;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Images.Distribution;

/// <summary>What a real registry will not do, from a fake one on 127.0.0.1: failures, garbage, redirects, refused tokens.</summary>
public sealed class RegistryFailureTests
{
    static readonly byte[] Blob = Encoding.UTF8.GetBytes("the blob's bytes");
    static readonly Descriptor BlobDescriptor = new() { MediaType = MediaTypes.OciLayerTar, Digest = Digest.Sha256(Blob).ToString(), Size = Blob.Length };

    static RegistryClient ClientFor(FakeHttpServer server, RegistryCredential? credential = null) => new(new RegistryClientOptions
    {
        Registries = RegistriesConfig.Parse($"[[registry]]\nlocation = \"{server.Host}\"\ninsecure = true\n", "fake.conf"),
        Credentials = credential is null ? null : (_, _) => credential,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        RequestTimeout = TimeSpan.FromSeconds(20),
    });

    static FakeResponse V2OrElse(FakeRequest request, Func<FakeRequest, FakeResponse> rest) =>
        request.PathAndQuery == "/v2/" ? FakeResponse.Text(200, "{}", "application/json") : rest(request);

    [Fact]
    public async Task A500WithAnErrorBodyNamesTheRegistryTheReferenceAndTheMessage()
    {
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => FakeResponse.Text(500, """{"errors":[{"code":"UNKNOWN","message":"storage backend exploded"}]}""", "application/json")));
        using var client = ClientFor(server);
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{server.Host}/app:v1")));
        Assert.Equal(RegistryErrorKind.Server, error.Kind);
        Assert.Equal(500, error.StatusCode);
        Assert.Equal("UNKNOWN", error.ErrorCode);
        Assert.Equal($"{server.Host} failed with 500 Internal Server Error for manifest {server.Host}/app:v1 (UNKNOWN: storage backend exploded)", error.Message);
    }

    [Fact]
    public async Task A500WithGarbageSaysItWasNotARegistryError()
    {
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => FakeResponse.Text(502, "<html>Bad Gateway</html>", "text/html")));
        using var client = ClientFor(server);
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{server.Host}/app:v1")));
        Assert.Equal(RegistryErrorKind.Server, error.Kind);
        Assert.Contains($"{server.Host} failed with 502", error.Message);
        Assert.Contains("app:v1", error.Message);
        Assert.Contains("not a registry error message", error.Message);
    }

    [Fact]
    public async Task AManifestThatIsNotJsonIsRefusedWithASentence()
    {
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => FakeResponse.Text(200, "\u0001\u0002garbage", "application/vnd.oci.image.manifest.v1+json")));
        using var client = ClientFor(server);
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{server.Host}/app:v1")));
        Assert.Equal(RegistryErrorKind.Protocol, error.Kind);
        Assert.Contains("not a manifest (not JSON", error.Message);
        Assert.Contains($"{server.Host}/app:v1", error.Message);
    }

    [Fact]
    public async Task NotFoundNamesTheReference()
    {
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => FakeResponse.Text(404, """{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}""", "application/json")));
        using var client = ClientFor(server);
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{server.Host}/team/app:v9")));
        Assert.Equal(RegistryErrorKind.NotFound, error.Kind);
        Assert.Equal($"manifest {server.Host}/team/app:v9 was not found on {server.Host} (MANIFEST_UNKNOWN: manifest unknown)", error.Message);
    }

    [Fact]
    public async Task SchemaOneIsRefusedByName()
    {
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => FakeResponse.Text(200, """{"schemaVersion":1,"name":"app","tag":"v1","fsLayers":[]}""", MediaTypes.DockerManifestV1Signed)));
        using var client = ClientFor(server);
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{server.Host}/app:v1")));
        Assert.Contains("Docker schema 1", error.Message);
    }

    [Fact]
    public async Task AManifestWhoseDigestIsNotTheOneAskedIsRefused()
    {
        var manifest = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":2},"layers":[]}""";
        var lying = Digest.Sha256("something else"u8);
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => FakeResponse.Text(200, manifest, MediaTypes.OciManifest,
            new Dictionary<string, string> { ["Docker-Content-Digest"] = lying.ToString() })));
        using var client = ClientFor(server);
        var byDigest = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{server.Host}/app@{lying}")));
        Assert.Equal(RegistryErrorKind.DigestMismatch, byDigest.Kind);
        var byTag = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{server.Host}/app:v1")));
        Assert.Contains("Docker-Content-Digest", byTag.Message);
    }

    [Fact]
    public async Task AVagueContentTypeIsResolvedFromTheDocument()
    {
        var manifest = """{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":2},"layers":[]}""";
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => FakeResponse.Text(200, manifest, "application/json")));
        using var client = ClientFor(server);
        var resolved = await client.ResolveAsync(ImageReference.Parse($"{server.Host}/app:v1"));
        Assert.Equal(MediaTypes.DockerManifest, resolved.Manifest.MediaType);
        var request = server.Requests.First(r => r.PathAndQuery.Contains("/manifests/"));
        foreach (var type in MediaTypes.ManifestAccept) Assert.Contains(type, request.Accept);
    }

    [Fact]
    public async Task BasicAuthIsSentOnlyAfterTheChallengeAndNotToTheBlobStorageARedirectNames()
    {
        using var storage = new FakeHttpServer(r => r.PathAndQuery.StartsWith("/storage/")
            ? new FakeResponse(200, Blob, new Dictionary<string, string> { ["Content-Type"] = "application/octet-stream" })
            : FakeResponse.Text(404, "no"));
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pw"));
        using var registry = new FakeHttpServer(r =>
        {
            if (r.Authorization != expected)
                return FakeResponse.Text(401, """{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}""", "application/json",
                    new Dictionary<string, string> { ["WWW-Authenticate"] = "Basic realm=\"fake\"" });
            if (r.PathAndQuery == "/v2/") return FakeResponse.Text(200, "{}");
            return FakeResponse.Text(307, "", null, new Dictionary<string, string> { ["Location"] = $"http://{storage.Host}/storage/blob?sig=abc" });
        });
        using var client = ClientFor(registry, new RegistryCredential("user", "pw"));
        using var store = new TestBlobStore();
        var fetch = await client.FetchBlobAsync(new RemoteRepository(registry.Host, "app", Insecure: true), BlobDescriptor, store);
        Assert.False(fetch.AlreadyPresent);
        Assert.Equal(Blob, store.ReadAll(BlobDescriptor.ParsedDigest));
        var storageRequest = Assert.Single(storage.Requests);
        Assert.Null(storageRequest.Authorization);
        Assert.Equal("/storage/blob?sig=abc", storageRequest.PathAndQuery);
        Assert.Contains(registry.Requests, r => r.PathAndQuery.Contains("/blobs/") && r.Authorization == expected);
    }

    [Fact]
    public async Task ARefusedTokenIsRenewedOnceThenTheRefusalIsReported()
    {
        var issued = 0;
        var accepted = "token-2";
        FakeHttpServer? registry = null;
        using var issuer = new FakeHttpServer(r =>
        {
            var n = Interlocked.Increment(ref issued);
            return FakeResponse.Text(200, $$"""{"access_token":"token-{{n}}","expires_in":300}""", "application/json");
        });
        registry = new FakeHttpServer(r =>
        {
            if (r.Authorization != $"Bearer {accepted}")
                return FakeResponse.Text(401, "", null, new Dictionary<string, string>
                {
                    ["WWW-Authenticate"] = $"Bearer realm=\"http://{issuer.Host}/token\",service=\"fake\",scope=\"repository:app:pull\"",
                });
            return r.PathAndQuery == "/v2/" ? FakeResponse.Text(200, "{}") : new FakeResponse(200, Blob, new Dictionary<string, string> { ["Content-Type"] = "application/octet-stream" });
        });
        using (registry)
        {
            using var client = ClientFor(registry);
            using var store = new TestBlobStore();
            await client.FetchBlobAsync(new RemoteRepository(registry.Host, "app", Insecure: true), BlobDescriptor, store);
            Assert.Equal(2, issued); // token-1 refused, token-2 fetched in its place
            Assert.True(store.Contains(BlobDescriptor.ParsedDigest));

            accepted = "never";
            var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(new RemoteRepository(registry.Host, "app", Insecure: true), "v1"));
            Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
            Assert.Contains("authentication required", error.Message);
            Assert.Equal(3, issued); // the cached token-2 refused, renewed once as token-3, refused too: reported
        }
    }

    [Fact]
    public async Task ATransient500OnABlobIsRetriedAndAPersistentOneReported()
    {
        var failures = 2;
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => Interlocked.Decrement(ref failures) >= 0
            ? FakeResponse.Text(503, "busy")
            : new FakeResponse(200, Blob, new Dictionary<string, string> { ["Content-Type"] = "application/octet-stream" })));
        using var client = ClientFor(server);
        using var store = new TestBlobStore();
        var fetch = await client.FetchBlobAsync(new RemoteRepository(server.Host, "app", Insecure: true), BlobDescriptor, store);
        Assert.Equal(3, fetch.Attempts);

        failures = 1000;
        using var store2 = new TestBlobStore();
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.FetchBlobAsync(new RemoteRepository(server.Host, "app", Insecure: true), BlobDescriptor, store2));
        Assert.Equal(RegistryErrorKind.Server, error.Kind);
        Assert.Contains("503", error.Message);
        Assert.False(store2.Contains(BlobDescriptor.ParsedDigest));
    }

    [Fact]
    public async Task ARegistrySendingMoreThanTheSizeIsRefused()
    {
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => new FakeResponse(200, [.. Blob, .. "extra"u8.ToArray()])));
        using var client = ClientFor(server);
        using var store = new TestBlobStore();
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.FetchBlobAsync(new RemoteRepository(server.Host, "app", Insecure: true), BlobDescriptor, store));
        Assert.Equal(RegistryErrorKind.DigestMismatch, error.Kind);
        Assert.Contains("more than", error.Message);
        Assert.False(store.Contains(BlobDescriptor.ParsedDigest));
        Assert.Equal(0, store.PartialBytes(BlobDescriptor.ParsedDigest));
    }

    [Fact]
    public async Task AResumeThatTheServerAnswersWithTheWholeBlobStartsOver()
    {
        using var server = new FakeHttpServer(r => V2OrElse(r, _ => new FakeResponse(200, Blob))); // ignores Range
        using var client = ClientFor(server);
        using var store = new TestBlobStore();
        store.SeedPartial(BlobDescriptor.ParsedDigest, Blob.AsSpan(0, 4));
        var fetch = await client.FetchBlobAsync(new RemoteRepository(server.Host, "app", Insecure: true), BlobDescriptor, store);
        Assert.Equal(1, store.Restarts);
        Assert.Equal(Blob, store.ReadAll(BlobDescriptor.ParsedDigest));
        Assert.Equal("bytes=4-", server.Requests.Last().Range);
        Assert.Equal(4, fetch.ResumedFrom);
    }

    [Fact]
    public async Task AnUnreachableRegistryIsANetworkError()
    {
        var port = Tool.FreePort();
        using var client = new RegistryClient(new RegistryClientOptions { TlsVerify = false });
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(new RemoteRepository($"127.0.0.1:{port}", "app"), "v1"));
        Assert.Equal(RegistryErrorKind.Network, error.Kind);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
    }
}
