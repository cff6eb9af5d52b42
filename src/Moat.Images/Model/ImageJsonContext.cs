using System.Text.Json.Serialization;

namespace Moat.Images.Model;

/// <summary>
/// Source-generated JSON for the image documents (NativeAOT: no reflection). Reading is lenient about
/// unknown fields, as the specs require; a document that is not JSON at all fails with its position.
/// </summary>
[JsonSourceGenerationOptions(ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow, WriteIndented = false)]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(Descriptor))]
[JsonSerializable(typeof(ManifestProbe))]
[JsonSerializable(typeof(ContainerConfig))]
[JsonSerializable(typeof(List<HistoryEntry>))]
public sealed partial class ImageJsonContext : JsonSerializerContext;

/// <summary>The two fields that tell which kind of document a manifest response is, when the Content-Type is vague.</summary>
public sealed class ManifestProbe
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; }
    [JsonPropertyName("mediaType")] public string? MediaType { get; set; }
    [JsonPropertyName("manifests")] public System.Text.Json.JsonElement? Manifests { get; set; }
    [JsonPropertyName("layers")] public System.Text.Json.JsonElement? Layers { get; set; }
}
