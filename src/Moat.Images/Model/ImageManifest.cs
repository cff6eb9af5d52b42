using System.Text.Json.Serialization;

namespace Moat.Images.Model;

/// <summary>
/// An image manifest (OCI, or Docker schema 2 which has the same shape). Read from the registry's exact
/// bytes and never written back from this object: a manifest's digest is over the bytes as served.
/// </summary>
public sealed class ImageManifest
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; }
    [JsonPropertyName("mediaType")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; set; }
    [JsonPropertyName("artifactType")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; set; }
    [JsonPropertyName("config")] public Descriptor Config { get; set; } = new();
    [JsonPropertyName("layers")] public List<Descriptor> Layers { get; set; } = [];
    [JsonPropertyName("subject")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Descriptor? Subject { get; set; }
    [JsonPropertyName("annotations")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, string>? Annotations { get; set; }
}

/// <summary>An image index (OCI) or manifest list (Docker): one manifest per platform.</summary>
public sealed class ImageIndex
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; set; }
    [JsonPropertyName("mediaType")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; set; }
    [JsonPropertyName("artifactType")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; set; }
    [JsonPropertyName("manifests")] public List<Descriptor> Manifests { get; set; } = [];
    [JsonPropertyName("subject")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Descriptor? Subject { get; set; }
    [JsonPropertyName("annotations")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, string>? Annotations { get; set; }
}
