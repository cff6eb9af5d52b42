using Moat.Oci;
using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Moat.Images.Model;
using Moat.Images.Registries;
using Moat.Images.Storage;

namespace Moat.Images.Distribution;

public sealed partial class RegistryClient
{
    /// <summary>
    /// Downloads a blob into the store. The store's ingest says where an earlier attempt stopped (the request
    /// then asks for the rest with Range; a 200 instead of 206 starts over), or that someone else already has it.
    /// Redirects to blob storage are followed without the registry's Authorization. A connection that breaks
    /// mid-body, or a stall, or a 5xx, is retried from the bytes written, with growing pauses. Commit verifies
    /// size and digest: a blob whose bytes do not match is refused and nothing is stored.
    /// </summary>
    public async Task<BlobFetch> FetchBlobAsync(RemoteRepository repository, Descriptor descriptor, IBlobStore store,
        IProgress<long>? progress = null, CancellationToken cancellation = default)
    {
        if (!Digest.TryParse(descriptor.Digest, out var digest))
            throw new RegistryException(RegistryErrorKind.Protocol, $"'{descriptor.Digest}' in the manifest of {repository} is not a digest");
        if (descriptor.Size < 0)
            throw new RegistryException(RegistryErrorKind.Protocol, $"blob {digest} of {repository} has a negative size");
        // BeginIngest may wait for another download of the same blob: not on the caller's thread.
        using var ingest = await Task.Run(() => store.BeginIngest(digest, descriptor.Size, cancellation), cancellation).ConfigureAwait(false);
        if (ingest.AlreadyPresent)
        {
            progress?.Report(descriptor.Size);
            return new BlobFetch(true, 0, 0, 0);
        }
        var transfer = new Transfer { Position = ingest.Offset, Size = descriptor.Size };
        if (transfer.Position > transfer.Size) { ingest.Restart(); transfer.Position = 0; }
        var resumedFrom = transfer.Position;
        var buffer = ArrayPool<byte>.Shared.Rent(options.BufferSize);
        var attempt = 0;
        try
        {
            var delay = options.RetryDelay;
            while (true)
            {
                attempt++;
                try
                {
                    await DownloadAsync(repository, digest, ingest, transfer, buffer, progress, cancellation).ConfigureAwait(false);
                    break;
                }
                catch (Exception e) when (attempt < options.BlobAttempts && IsTransient(e, cancellation))
                {
                    await Task.Delay(delay, cancellation).ConfigureAwait(false);
                    delay *= 2;
                }
                catch (Exception e) when (IsTransient(e, cancellation))
                {
                    throw e as RegistryException ?? new RegistryException(RegistryErrorKind.Network,
                        $"downloading blob {digest} from {repository} failed {attempt} times, the last after {transfer.Position} of {transfer.Size} bytes: {ErrorText.Reason(e)}", e);
                }
            }
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }

        try { ingest.Commit(); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new RegistryException(RegistryErrorKind.DigestMismatch,
                $"blob {digest} from {repository} does not match its digest or size: refused, nothing stored ({ErrorText.Reason(e)})", e);
        }
        return new BlobFetch(false, resumedFrom, attempt, transfer.Transferred);
    }

    sealed class Transfer
    {
        public long Position;
        public long Size;
        public long Transferred;
    }

    static bool IsTransient(Exception e, CancellationToken cancellation) => e switch
    {
        RegistryException r => r.Kind is RegistryErrorKind.Network or RegistryErrorKind.Server,
        OperationCanceledException => !cancellation.IsCancellationRequested, // a stall
        IOException or HttpRequestException => true,
        _ => false,
    };

    async Task DownloadAsync(RemoteRepository repository, Digest digest, BlobIngest ingest, Transfer transfer, byte[] buffer,
        IProgress<long>? progress, CancellationToken cancellation)
    {
        if (transfer.Position == transfer.Size && transfer.Size > 0) return; // all there from before: Commit verifies it
        var what = $"blob {digest} of {repository}";
        var offset = transfer.Position;
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        stall.CancelAfter(options.StallTimeout);
        var response = await SendAuthorized(repository, PullScope(repository), baseUri =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, $"/v2/{repository.Repository}/blobs/{digest}"));
            if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
            return request;
        }, HttpCompletionOption.ResponseHeadersRead, stall.Token, cancellation).ConfigureAwait(false);
        try
        {
            response = await FollowRedirectsAsync(response, repository, offset, stall.Token, cancellation).ConfigureAwait(false);
            switch (response.StatusCode)
            {
                case HttpStatusCode.PartialContent when offset > 0:
                    var range = response.Content.Headers.ContentRange;
                    if (range?.From != offset)
                    {
                        // A range we did not ask for: start over rather than splice wrong bytes.
                        ingest.Restart();
                        transfer.Position = 0;
                        throw new IOException($"{repository.Registry} answered a range request from {offset} with bytes from {range?.From}");
                    }
                    break;
                case HttpStatusCode.OK:
                    if (offset > 0) { ingest.Restart(); transfer.Position = 0; } // no range support: the whole blob again
                    break;
                case HttpStatusCode.RequestedRangeNotSatisfiable when offset > 0:
                    ingest.Restart();
                    transfer.Position = 0;
                    throw new IOException($"{repository.Registry} cannot resume {what} at {offset}");
                default:
                    throw await ErrorFromAsync(response, repository, what, cancellation).ConfigureAwait(false);
            }
            await using var body = await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false);
            var stream = ingest.Stream;
            while (true)
            {
                var remaining = transfer.Size - transfer.Position;
                // Fill a good part of the buffer per write (fewer system calls), but read one byte past the
                // size so a registry that sends too much is caught.
                var want = (int)Math.Min(buffer.Length, remaining + 1);
                var minimum = (int)Math.Min(buffer.Length / 4, remaining + 1);
                stall.CancelAfter(options.StallTimeout);
                var read = await body.ReadAtLeastAsync(buffer.AsMemory(0, want), Math.Max(minimum, 1), throwOnEndOfStream: false, stall.Token).ConfigureAwait(false);
                if (read == 0) break;
                if (read > remaining)
                {
                    ingest.Restart();
                    transfer.Position = 0;
                    throw new RegistryException(RegistryErrorKind.DigestMismatch, $"{repository.Registry} sent more than the {transfer.Size} bytes of {what}: refused, nothing stored");
                }
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellation).ConfigureAwait(false);
                transfer.Position += read;
                transfer.Transferred += read;
                progress?.Report(transfer.Position);
                if (read < minimum) break; // end of body
            }
            await stream.FlushAsync(cancellation).ConfigureAwait(false);
            if (transfer.Position < transfer.Size)
                throw new IOException($"the connection to {repository.Registry} closed after {transfer.Position} of {transfer.Size} bytes of {what}");
        }
        finally { response.Dispose(); }
    }

    /// <summary>
    /// Follows a registry's redirect to blob storage: the Range goes along, the Authorization only to the
    /// registry's own host (a storage URL carries its own signature, and must not receive the registry's token).
    /// </summary>
    async Task<HttpResponseMessage> FollowRedirectsAsync(HttpResponseMessage response, RemoteRepository repository, long offset,
        CancellationToken timeout, CancellationToken caller)
    {
        var registryAuthority = response.RequestMessage!.RequestUri!.Authority;
        var authorization = response.RequestMessage.Headers.Authorization;
        for (var hops = 0; IsRedirect(response.StatusCode); hops++)
        {
            var from = response.RequestMessage!.RequestUri!;
            var location = response.Headers.Location;
            response.Dispose();
            if (hops >= 10 || location is null)
                throw new RegistryException(RegistryErrorKind.Protocol, location is null
                    ? $"{repository.Registry} redirected a blob request without a Location"
                    : $"{repository.Registry} redirected a blob request more than 10 times");
            var target = location.IsAbsoluteUri ? location : new Uri(from, location);
            if (target.Scheme is not ("https" or "http"))
                throw new RegistryException(RegistryErrorKind.Protocol, $"{repository.Registry} redirected a blob request to '{target.Scheme}:', which is not HTTP");
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
            if (target.Authority == registryAuthority) request.Headers.Authorization = authorization;
            var verify = options.TlsVerify != false && !(target.Authority == registryAuthority && IsInsecure(repository)) && !options.Registries.IsInsecure(target.Authority);
            response = await Send(ClientFor(target.Authority, verify), request, HttpCompletionOption.ResponseHeadersRead, repository.Registry, timeout, caller).ConfigureAwait(false);
        }
        return response;
    }

    static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}
