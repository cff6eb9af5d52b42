using System.Text.Json.Serialization;

namespace Moat.Runtime.Seccomp;

/// <summary>
/// Source-generated JSON metadata for the listener message (nulls left out). Not used by the runtime
/// (SeccompListener.Write writes the same bytes by hand); the reference its tests compare with.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerProcessState))]
internal partial class SeccompJsonContext : JsonSerializerContext;
