using System.Text.Json;
using System.Text.Json.Serialization;
using Moat.Oci.Json;

namespace Moat.Oci;

/// <summary>
/// Source-generated (reflection-free, NativeAOT-safe) serialization metadata for the OCI documents.
/// Reading is strict like runc's: no comments, no trailing commas, and null is rejected where the
/// model has no nullable property. Unknown properties are skipped so newer documents still load.
/// Spec, Process and LinuxResources are not here: they go through the hand-written codec
/// (<see cref="SpecJson"/>), because the serializer's run-time metadata set-up for their ~70 types
/// cost milliseconds per process, and their generated code added a fifth to the start-up
/// rehydration of every moat process. (Their converters let a context embed them.)
/// No code of moat-runtime uses this context (OciJson writes every document by hand); it stays as the
/// reference the hand-written writers are tested against, and for readers outside the runtime.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    AllowTrailingCommas = false,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(ContainerState))]
[JsonSerializable(typeof(List<ContainerState>))]
[JsonSerializable(typeof(Features))]
public partial class OciJsonContext : JsonSerializerContext;
