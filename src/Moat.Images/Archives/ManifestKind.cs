using Moat.Oci;
using System.Text.Json;
using Moat.Images.Model;

namespace Moat.Images.Archives;

/// <summary>Which kind of document a manifest blob is, from its own mediaType or, when absent, its shape.</summary>
internal static class ManifestKind
{
    public static string Of(byte[] document)
    {
        ManifestProbe probe;
        try
        {
            probe = JsonSerializer.Deserialize(document, ImageJsonContext.Default.ManifestProbe) ?? new ManifestProbe();
        }
        catch (JsonException e)
        {
            throw new ArchiveException($"a manifest in the archive is not valid JSON: {ErrorText.Reason(e)}", e);
        }
        if (!string.IsNullOrEmpty(probe.MediaType))
            return probe.MediaType;
        return probe.Manifests is not null ? MediaTypes.OciIndex : MediaTypes.OciManifest;
    }
}
