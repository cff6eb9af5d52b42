using System.Text.Json;
using System.Text.Json.Serialization;

namespace Moat.Oci;

/// <summary>
/// Source-generated (reflection-free, NativeAOT-safe) serialization metadata for the OCI documents.
/// Reading is strict like runc's: no comments, no trailing commas, and null is rejected where the
/// model has no nullable property. Unknown properties are skipped so newer documents still load.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(Spec))]
[JsonSerializable(typeof(ContainerState))]
[JsonSerializable(typeof(List<ContainerState>))]
[JsonSerializable(typeof(Features))]
public partial class OciJsonContext : JsonSerializerContext;
