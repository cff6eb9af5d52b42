using System.Text.Json.Serialization;

namespace Moat.Runtime.Seccomp;

/// <summary>Source-generated JSON metadata for the listener message (nulls left out).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ContainerProcessState))]
internal partial class SeccompJsonContext : JsonSerializerContext;
