using System.Net;
using Moat.Images.Model;

namespace Moat.Trust.Gpg;

/// <summary>
/// Reads the signatures of a manifest digest from lookaside storage (containers-signature(5), "sigstore"
/// directories): `BASE/REPOSITORY@ALGORITHM=HEX/signature-1`, `signature-2`, ... up to the first one missing,
/// from file:// or http(s):// as skopeo and podman write and read them.
/// </summary>
public sealed class LookasideReader(HttpClient? http = null) : IDisposable
{
    const int MaxSignatures = 128;
    const int MaxSignatureBytes = 4 << 20;
    HttpClient? client = http;

    public static Uri SignatureUri(Uri repositoryBase, Digest digest, int index) =>
        new($"{repositoryBase.ToString().TrimEnd('/')}@{digest.Algorithm}={digest.Hex}/signature-{index}");

    public async Task<IReadOnlyList<byte[]>> ReadAsync(Uri repositoryBase, Digest digest, CancellationToken cancellation = default)
    {
        var signatures = new List<byte[]>();
        for (var index = 1; index <= MaxSignatures; index++)
        {
            var uri = SignatureUri(repositoryBase, digest, index);
            var bytes = uri.IsFile ? ReadFile(uri) : await ReadHttpAsync(uri, cancellation).ConfigureAwait(false);
            if (bytes is null) break;
            signatures.Add(bytes);
        }
        return signatures;
    }

    static byte[]? ReadFile(Uri uri)
    {
        var path = uri.LocalPath;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return null;
            if (info.Length > MaxSignatureBytes) throw new TrustConfigException($"the signature {path} is {info.Length} bytes, too large to be one");
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TrustConfigException($"cannot read the signature {path}: {Moat.Oci.ErrorText.Reason(e)}");
        }
    }

    async Task<byte[]?> ReadHttpAsync(Uri uri, CancellationToken cancellation)
    {
        client ??= new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        try
        {
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            if (response.StatusCode != HttpStatusCode.OK)
                throw new TrustConfigException($"the lookaside server answered {(int)response.StatusCode} for {uri}");
            if (response.Content.Headers.ContentLength > MaxSignatureBytes)
                throw new TrustConfigException($"the signature {uri} is too large to be one");
            return await response.Content.ReadAsByteArrayAsync(cancellation).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new TrustConfigException($"cannot read the signature {uri}: {Moat.Oci.ErrorText.Reason(e)}");
        }
    }

    public void Dispose() => client?.Dispose();
}
