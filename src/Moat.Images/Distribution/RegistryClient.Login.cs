using System.Net;
using Moat.Images.Auth;
using Moat.Images.Registries;

namespace Moat.Images.Distribution;

public sealed partial class RegistryClient
{
    /// <summary>
    /// `moat login`: GET /v2/ with these credentials (basic, or a bearer token fetched with them and no scope,
    /// as podman does). Returns when the registry accepts them; throws an Unauthorized error when it does not,
    /// so nothing wrong is ever saved.
    /// </summary>
    public async Task CheckLoginAsync(string registry, RegistryCredential credential, CancellationToken cancellation = default)
    {
        using var probe = new RegistryClient(options with { Credentials = (_, _) => credential });
        var root = new RemoteRepository(registry, "", options.Registries.IsInsecure(registry) || options.TlsVerify == false);
        using var timeout = probe.RequestTimeout(cancellation);
        using var response = await probe.SendAuthorized(root, [], baseUri => new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/v2/")),
            HttpCompletionOption.ResponseContentRead, timeout.Token, cancellation).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.OK)
            return;
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            throw new RegistryException(RegistryErrorKind.Unauthorized, $"{registry} refused the user name and password of {credential.Username}: nothing was saved");
        throw await probe.ErrorFromAsync(response, root, "login", cancellation).ConfigureAwait(false);
    }
}
