using System.Text.Json.Serialization;

namespace Moat.Runtime.Seccomp;

/// <summary>Source-generated JSON metadata for the listener message (nulls left out).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerProcessState))]
internal partial class SeccompJsonContext : JsonSerializerContext;

/// <summary>Source-generated JSON metadata for the embedded default profile (read strictly: a typo is an error).</summary>
[JsonSourceGenerationOptions(
    RespectNullableAnnotations = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(DefaultProfileDocument))]
internal partial class DefaultProfileJsonContext : JsonSerializerContext;
