using Moat.Oci;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Registries;

namespace Moat.Images.Distribution;

/// <summary>A manifest or index as the registry served it: the exact bytes (its digest is over them), the media type, the digest.</summary>
public sealed record ManifestResult(byte[] Bytes, string MediaType, Digest Digest, RemoteRepository Source)
{
    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    public ImageManifest ParseManifest() => Parse(ImageJsonContext.Default.ImageManifest, "an image manifest");

    public ImageIndex ParseIndex() => Parse(ImageJsonContext.Default.ImageIndex, "an image index");

    T Parse<T>(System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(Bytes, type)
                ?? throw new RegistryException(RegistryErrorKind.Protocol, $"{Source}@{Digest} is null, not {what}");
        }
        catch (JsonException e)
        {
            throw new RegistryException(RegistryErrorKind.Protocol, $"{Source}@{Digest} is not {what} ({ErrorText.Reason(e)})", e);
        }
    }
}

/// <summary>
/// A reference resolved to one image manifest for one platform: where it came from, the index it was chosen
/// from (when the reference named an index), and the parsed manifest whose config and layers are to be fetched.
/// </summary>
public sealed record ResolvedImage
{
    /// <summary>The fully qualified reference that was found (a short name becomes the search registry's name).</summary>
    public required ImageReference Reference { get; init; }
    /// <summary>Where the manifest came from (a mirror, or the registry's location): fetch the blobs from here.</summary>
    public required RemoteRepository Source { get; init; }
    public required ManifestResult Manifest { get; init; }
    public required ImageManifest Image { get; init; }
    /// <summary>The index the manifest was chosen from, when the reference named one.</summary>
    public ManifestResult? Index { get; init; }
    /// <summary>The platform chosen from the index, or null for a plain manifest.</summary>
    public Platform? Platform { get; init; }
}
