using Moat.Oci;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Images.Registries;
using Moat.Images.Storage;

namespace Moat.Images.Distribution;

public sealed partial class RegistryClient
{
    /// <summary>HEAD /v2/NAME/blobs/DIGEST: whether the repository has the blob (a push skips it then).</summary>
    public async Task<bool> BlobExistsAsync(RemoteRepository repository, Digest digest, bool forPush = false, CancellationToken cancellation = default)
    {
        using var timeout = RequestTimeout(cancellation);
        using var response = await SendAuthorized(repository, forPush ? PushScope(repository) : PullScope(repository),
            baseUri => new HttpRequestMessage(HttpMethod.Head, new Uri(baseUri, $"/v2/{repository.Repository}/blobs/{digest}")),
            HttpCompletionOption.ResponseHeadersRead, timeout.Token, cancellation).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => true,
            HttpStatusCode.NotFound => false,
            _ => throw await ErrorFromAsync(response, repository, $"blob {digest} of {repository}", cancellation).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// Cross-repository mount (POST /v2/NAME/blobs/uploads/?mount=DIGEST&amp;from=OTHER): true when the registry
    /// linked the blob from the other repository of the same registry; false when it declined (the caller uploads).
    /// The token asks for pull on the source repository too, which registries need to allow the mount.
    /// </summary>
    public async Task<bool> MountBlobAsync(RemoteRepository repository, Digest digest, string fromRepository, CancellationToken cancellation = default)
    {
        using var timeout = RequestTimeout(cancellation);
        string[] scopes = [.. PushScope(repository), $"repository:{fromRepository}:pull"];
        using var response = await SendAuthorized(repository, scopes,
            baseUri => new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri,
                $"/v2/{repository.Repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}")),
            HttpCompletionOption.ResponseContentRead, timeout.Token, cancellation).ConfigureAwait(false);
        switch (response.StatusCode)
        {
            case HttpStatusCode.Created:
                return true;
            case HttpStatusCode.Accepted:
                // An upload session was opened instead; cancel it so it does not linger until the registry purges it.
                if (response.Headers.Location is { } location)
                    try
                    {
                        using var cancel = await SendAuthorized(repository, PushScope(repository), baseUri => new HttpRequestMessage(HttpMethod.Delete, Resolve(baseUri, location)),
                            HttpCompletionOption.ResponseContentRead, timeout.Token, cancellation).ConfigureAwait(false);
                    }
                    catch (RegistryException) { }
                return false;
            default:
                throw await ErrorFromAsync(response, repository, $"mount of blob {digest} from {fromRepository} into {repository}", cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>Uploads a blob from the store (see the stream overload).</summary>
    public Task UploadBlobAsync(RemoteRepository repository, Descriptor descriptor, IBlobStore store, IProgress<long>? progress = null, CancellationToken cancellation = default) =>
        UploadBlobAsync(repository, descriptor, () => store.Open(descriptor.ParsedDigest), progress, cancellation);

    /// <summary>
    /// Monolithic upload: POST /v2/NAME/blobs/uploads/ opens a session, PUT LOCATION?digest=D sends the bytes
    /// (the registry checks the digest). <paramref name="openContent"/> is called again if the PUT must be
    /// repeated after a refused token.
    /// </summary>
    public async Task UploadBlobAsync(RemoteRepository repository, Descriptor descriptor, Func<Stream> openContent, IProgress<long>? progress = null, CancellationToken cancellation = default)
    {
        var digest = descriptor.ParsedDigest;
        var what = $"upload of blob {digest} to {repository}";
        Uri location;
        using (var timeout = RequestTimeout(cancellation))
        using (var response = await SendAuthorized(repository, PushScope(repository),
            baseUri => new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, $"/v2/{repository.Repository}/blobs/uploads/")),
            HttpCompletionOption.ResponseContentRead, timeout.Token, cancellation).ConfigureAwait(false))
        {
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw await ErrorFromAsync(response, repository, what, cancellation).ConfigureAwait(false);
            location = response.Headers.Location is { } l
                ? Resolve(response.RequestMessage!.RequestUri!, l)
                : throw new RegistryException(RegistryErrorKind.Protocol, $"{repository.Registry} opened an upload session without a Location, for {what}");
        }

        var target = new Uri(location + (location.Query.Length > 0 ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest.ToString()));
        // No overall timeout: a large layer over a slow link takes as long as it takes; the caller cancels.
        using var put = await SendAuthorized(repository, PushScope(repository), _ =>
        {
            var content = new StreamContent(new ProgressStream(openContent(), progress), options.BufferSize);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = descriptor.Size;
            return new HttpRequestMessage(HttpMethod.Put, target) { Content = content };
        }, HttpCompletionOption.ResponseContentRead, cancellation, cancellation).ConfigureAwait(false);
        if (put.StatusCode != HttpStatusCode.Created)
            throw await ErrorFromAsync(put, repository, what, cancellation).ConfigureAwait(false);
        if (put.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var stored) && stored != digest)
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{repository.Registry} stored blob {digest} as {stored}");
    }

    static Uri Resolve(Uri baseUri, Uri location) => location.IsAbsoluteUri ? location : new Uri(baseUri, location);

    /// <summary>
    /// PUT /v2/NAME/manifests/TAG_OR_DIGEST with the exact bytes and media type; returns the manifest's digest.
    /// A digest reference must be the bytes' own digest.
    /// </summary>
    public async Task<Digest> PutManifestAsync(RemoteRepository repository, string tagOrDigest, ReadOnlyMemory<byte> manifest, string mediaType, CancellationToken cancellation = default)
    {
        var digest = Digest.Sha256(manifest.Span);
        if (Digest.TryParse(tagOrDigest, out var named) && ComputeDigest(manifest.Span, named.Algorithm) != named)
            throw new ArgumentException($"the manifest's digest is {digest}, not {named}", nameof(tagOrDigest));
        if (!tagOrDigest.Contains(':') && !References.ImageReference.IsValidTag(tagOrDigest))
            throw new ArgumentException($"'{tagOrDigest}' is neither a tag nor a digest", nameof(tagOrDigest));
        var what = $"manifest {repository}{(tagOrDigest.Contains(':') ? "@" : ":")}{tagOrDigest}";
        using var timeout = RequestTimeout(cancellation);
        using var response = await SendAuthorized(repository, PushScope(repository), baseUri =>
        {
            var content = new ReadOnlyMemoryContent(manifest);
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return new HttpRequestMessage(HttpMethod.Put, new Uri(baseUri, $"/v2/{repository.Repository}/manifests/{tagOrDigest}")) { Content = content };
        }, HttpCompletionOption.ResponseContentRead, timeout.Token, cancellation).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
            throw await ErrorFromAsync(response, repository, what, cancellation).ConfigureAwait(false);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var stored)
            && ComputeDigest(manifest.Span, stored.Algorithm) != stored)
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{repository.Registry} stored {what} as {stored}, which is not the digest of the bytes sent");
        return Digest.TryParse(tagOrDigest, out var byDigest) ? byDigest : digest;
    }

    /// <summary>GET /v2/NAME/tags/list, following the Link header's pages.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(RemoteRepository repository, CancellationToken cancellation = default)
    {
        var tags = new List<string>();
        string? next = $"/v2/{repository.Repository}/tags/list";
        for (var page = 0; next is not null && page < 1000; page++)
        {
            var path = next;
            using var timeout = RequestTimeout(cancellation);
            using var response = await SendAuthorized(repository, PullScope(repository), baseUri => new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, path)),
                HttpCompletionOption.ResponseContentRead, timeout.Token, cancellation).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
                throw await ErrorFromAsync(response, repository, $"the tags of {repository}", cancellation).ConfigureAwait(false);
            var body = await ReadLimitedAsync(response.Content, 16 << 20, timeout.Token).ConfigureAwait(false);
            TagList? list;
            try { list = JsonSerializer.Deserialize(body, DistributionJsonContext.Default.TagList); }
            catch (JsonException e) { throw new RegistryException(RegistryErrorKind.Protocol, $"{repository.Registry} answered the tag list of {repository} with something that is not one (not JSON: {ErrorText.Reason(e)})", e); }
            if (list?.Tags is { } pageTags) tags.AddRange(pageTags);
            next = NextLink(response);
        }
        return tags;
    }

    /// <summary>`Link: &lt;/v2/x/tags/list?n=100&amp;last=b&gt;; rel="next"` (RFC 8288), as the spec paginates.</summary>
    static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.NonValidated.TryGetValues("Link", out var values)) return null;
        foreach (var value in values)
            foreach (var link in value.Split(','))
            {
                var open = link.IndexOf('<');
                var close = link.IndexOf('>');
                if (open < 0 || close < open || !link[close..].Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase) && !link[close..].Contains("rel=next", StringComparison.OrdinalIgnoreCase)) continue;
                var target = link[(open + 1)..close];
                return Uri.TryCreate(target, UriKind.Absolute, out var absolute) ? absolute.PathAndQuery : target;
            }
        return null;
    }
}
