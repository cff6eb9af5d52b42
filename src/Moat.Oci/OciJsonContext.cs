using System.Text.Json;
using System.Text.Json.Serialization;
using Moat.Oci.Json;

namespace Moat.Oci;

/// <summary>
/// Source-generated (reflection-free, NativeAOT-safe) serialization metadata for the OCI documents.
/// Reading is strict like runc's: no comments, no trailing commas, and null is rejected where the
/// model has no nullable property. Unknown properties are skipped so newer documents still load.
/// Spec, Process and LinuxResources go through the hand-written codec (<see cref="SpecJson"/>) so that
/// their ~70 types never get serializer metadata built at run time: that set-up costs milliseconds per process.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    Converters = [typeof(SpecJsonConverter), typeof(ProcessJsonConverter), typeof(LinuxResourcesJsonConverter)])]
[JsonSerializable(typeof(Spec))]
[JsonSerializable(typeof(Process))]
[JsonSerializable(typeof(LinuxResources))]
[JsonSerializable(typeof(ContainerState))]
[JsonSerializable(typeof(List<ContainerState>))]
[JsonSerializable(typeof(Features))]
public partial class OciJsonContext : JsonSerializerContext;
