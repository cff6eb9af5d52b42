using Moat.Oci;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Registries;

namespace Moat.Images.Distribution;

public sealed partial class RegistryClient
{
    /// <summary>Manifests larger than this are refused (containers/image has the same limit).</summary>
    public const int MaxManifestBytes = 4 << 20;

    /// <summary>
    /// Resolves a reference to one image manifest for the configured platform (or <paramref name="platform"/>):
    /// short names over the search registries (or their alias), each registry's mirrors before its location,
    /// an index narrowed to its platform's manifest. The first source that has the image wins; when none has
    /// it, the error of the last one tried is thrown (with the others named, for a short name).
    /// </summary>
    public async Task<ResolvedImage> ResolveAsync(ImageReference reference, PlatformSpec? platform = null, CancellationToken cancellation = default)
    {
        var (found, manifest) = await FindManifestAsync(reference, cancellation).ConfigureAwait(false);
        return await NarrowAsync(found, manifest, platform ?? options.Platform, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// The manifest or index a reference names, as served (no platform chosen): a short name is tried in each
    /// search registry (or its alias) in order, each registry's mirrors before its location.
    /// </summary>
    public async Task<ManifestResult> GetManifestAsync(ImageReference reference, CancellationToken cancellation = default) =>
        (await FindManifestAsync(reference, cancellation).ConfigureAwait(false)).Manifest;

    async Task<(ImageReference Reference, ManifestResult Manifest)> FindManifestAsync(ImageReference reference, CancellationToken cancellation)
    {
        var candidates = options.Registries.ExpandShortName(reference);
        var failures = new List<RegistryException>();
        foreach (var candidate in candidates)
        {
            try { return (candidate, await GetFromSourcesAsync(candidate, cancellation).ConfigureAwait(false)); }
            catch (RegistryException e) when (candidates.Count > 1 && e.Kind is RegistryErrorKind.NotFound or RegistryErrorKind.Unauthorized or RegistryErrorKind.Denied or RegistryErrorKind.Network or RegistryErrorKind.Tls)
            {
                failures.Add(e);
            }
        }
        throw new RegistryException(failures[^1].Kind,
            $"{reference.ShortPath} was not found in any search registry of {options.Registries.Path}: {string.Join("; ", failures.Select(f => f.Message))}", failures[^1]);
    }

    async Task<ResolvedImage> NarrowAsync(ImageReference reference, ManifestResult manifest, PlatformSpec platform, CancellationToken cancellation)
    {
        ManifestResult? index = null;
        Platform? chosenPlatform = null;
        if (manifest.IsIndex)
        {
            index = manifest;
            var parsedIndex = manifest.ParseIndex();
            var entry = platform.Choose(parsedIndex) ?? throw new RegistryException(RegistryErrorKind.PlatformNotFound,
                $"{reference.FullName} has no image for {platform} (it has: {PlatformSpec.Describe(parsedIndex) switch { "" => "no platforms", var p => p }}); choose one with --platform");
            if (!Digest.TryParse(entry.Digest, out var childDigest))
                throw new RegistryException(RegistryErrorKind.Protocol, $"the index of {reference.FullName} names '{entry.Digest}', which is not a digest");
            manifest = await GetManifestAsync(manifest.Source, childDigest.ToString(), cancellation).ConfigureAwait(false);
            if (manifest.IsIndex)
                throw new RegistryException(RegistryErrorKind.Protocol, $"the {platform} entry of {reference.FullName}'s index is another index; nested indexes are not supported");
            if (entry.Size > 0 && entry.Size != manifest.Bytes.Length)
                throw new RegistryException(RegistryErrorKind.DigestMismatch, $"the {platform} manifest of {reference.FullName} is {manifest.Bytes.Length} bytes, not the {entry.Size} its index says");
            chosenPlatform = entry.Platform;
        }
        var image = manifest.ParseManifest();
        foreach (var descriptor in image.Layers.Prepend(image.Config))
            if (!Digest.TryParse(descriptor.Digest, out _) || descriptor.Size < 0)
                throw new RegistryException(RegistryErrorKind.Protocol, $"the manifest of {reference.FullName} has a descriptor with digest '{descriptor.Digest}' and size {descriptor.Size}, which cannot be fetched");
        return new ResolvedImage { Reference = reference, Source = manifest.Source, Manifest = manifest, Image = image, Index = index, Platform = chosenPlatform };
    }

    /// <summary>From the first of a qualified reference's pull sources that has it: a failing mirror is skipped, the location decides.</summary>
    async Task<ManifestResult> GetFromSourcesAsync(ImageReference reference, CancellationToken cancellation)
    {
        var sources = options.Registries.PullSources(reference);
        for (var i = 0; ; i++)
        {
            try { return await GetManifestAsync(sources[i], reference.TagOrDigest, cancellation).ConfigureAwait(false); }
            catch (RegistryException) when (i < sources.Count - 1 && sources[i].IsMirror && !cancellation.IsCancellationRequested) { }
        }
    }

    /// <summary>
    /// GET /v2/NAME/manifests/REFERENCE: the exact bytes, the media type (from Content-Type, or the document when
    /// the registry is vague), and the digest, verified against the requested digest and the registry's
    /// Docker-Content-Digest header. Schema 1 manifests are refused by name.
    /// </summary>
    public async Task<ManifestResult> GetManifestAsync(RemoteRepository repository, string tagOrDigest, CancellationToken cancellation = default)
    {
        var what = $"manifest {repository}{(tagOrDigest.Contains(':') ? "@" : ":")}{tagOrDigest}";
        Digest? requested = Digest.TryParse(tagOrDigest, out var d) ? d : null;
        if (requested is null && !ImageReference.IsValidTag(tagOrDigest))
            throw new ArgumentException($"'{tagOrDigest}' is neither a tag nor a digest", nameof(tagOrDigest));
        using var timeout = RequestTimeout(cancellation);
        using var response = await SendAuthorized(repository, PullScope(repository), baseUri =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, $"/v2/{repository.Repository}/manifests/{tagOrDigest}"));
            foreach (var type in MediaTypes.ManifestAccept) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, timeout.Token, cancellation).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
            throw await ErrorFromAsync(response, repository, what, cancellation).ConfigureAwait(false);

        byte[] bytes;
        try { bytes = await ReadLimitedAsync(response.Content, MaxManifestBytes, timeout.Token).ConfigureAwait(false); }
        catch (IOException e) { throw new RegistryException(RegistryErrorKind.Protocol, $"{repository.Registry} sent a {what} that cannot be read: {ErrorText.Reason(e)}", e); }
        catch (HttpRequestException e) { throw TransportError(e, repository.Registry, response.RequestMessage?.RequestUri ?? new Uri($"https://{repository.Registry}")); }

        var mediaType = MediaTypeOf(response, bytes, repository, what);
        var digest = ComputeDigest(bytes, requested?.Algorithm ?? "sha256");
        if (requested is { } expected && digest != expected)
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{repository.Registry} sent a {what} whose content has digest {digest}: refused");
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var headerValues)
            && Digest.TryParse(headerValues.FirstOrDefault(), out var announced)
            && ComputeDigest(bytes, announced.Algorithm) != announced)
            throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{repository.Registry} sent a {what} whose content does not match its Docker-Content-Digest {announced}: refused");
        return new ManifestResult(bytes, mediaType, digest, repository);
    }

    static Digest ComputeDigest(ReadOnlySpan<byte> bytes, string algorithm) =>
        algorithm == "sha512" ? Digest.FromHash("sha512", SHA512.HashData(bytes)) : Digest.Sha256(bytes);

    static string MediaTypeOf(HttpResponseMessage response, byte[] bytes, RemoteRepository repository, string what)
    {
        var contentType = response.Content.Headers.ContentType?.MediaType;
        ManifestProbe? probe;
        try { probe = JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ManifestProbe); }
        catch (JsonException)
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"{repository.Registry} answered the request for {what} with something that is not a manifest (not JSON{(contentType is null ? "" : ", " + contentType)})");
        }
        if (probe is null) throw new RegistryException(RegistryErrorKind.Protocol, $"{repository.Registry} answered the request for {what} with an empty document");
        if (contentType is MediaTypes.DockerManifestV1Signed or "application/vnd.docker.distribution.manifest.v1+json" || probe.SchemaVersion == 1)
            throw new RegistryException(RegistryErrorKind.Protocol, $"{what} is a Docker schema 1 manifest, which is deprecated and not supported: push the image again with a current docker, podman or skopeo");
        if (MediaTypes.IsIndex(contentType) || MediaTypes.IsManifest(contentType)) return contentType!;
        // application/json, text/plain or none: the document says what it is.
        if (MediaTypes.IsIndex(probe.MediaType) || MediaTypes.IsManifest(probe.MediaType)) return probe.MediaType!;
        if (probe.Manifests is not null) return MediaTypes.OciIndex;
        if (probe.Layers is not null) return MediaTypes.OciManifest;
        throw new RegistryException(RegistryErrorKind.Protocol, $"{what} has media type '{contentType ?? probe.MediaType ?? "(none)"}', which is not an image manifest or index");
    }
}
