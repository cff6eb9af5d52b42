using System.Text.Json.Serialization;

namespace Moat.Images.Model;

/// <summary>An OCI content descriptor: what a blob is, its digest and its size.</summary>
public sealed class Descriptor
{
    [JsonPropertyName("mediaType")] public string MediaType { get; set; } = "";
    [JsonPropertyName("digest")] public string Digest { get; set; } = "";
    [JsonPropertyName("size")] public long Size { get; set; }
    [JsonPropertyName("urls")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Urls { get; set; }
    [JsonPropertyName("annotations")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, string>? Annotations { get; set; }
    [JsonPropertyName("platform")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Platform? Platform { get; set; }
    [JsonPropertyName("artifactType")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; set; }

    /// <summary>The digest, parsed; a descriptor with a malformed digest is refused here, before any fetch.</summary>
    public Digest ParsedDigest => Model.Digest.Parse(Digest);
}

/// <summary>The platform an image runs on (image-spec image-index.md).</summary>
public sealed class Platform
{
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "";
    [JsonPropertyName("os")] public string Os { get; set; } = "";
    [JsonPropertyName("os.version")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? OsVersion { get; set; }
    [JsonPropertyName("os.features")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? OsFeatures { get; set; }
    [JsonPropertyName("variant")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Variant { get; set; }

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}
