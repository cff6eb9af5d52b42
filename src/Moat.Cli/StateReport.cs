using System.Text.Json.Serialization;
using Moat.Oci;
using Moat.Runtime.Lifecycle;
using Moat.Runtime.State;

namespace Moat.Cli;

/// <summary>What `state` and `list --format json` print: the runtime-spec state plus runc's extra fields.</summary>
public sealed class StateReport
{
    [JsonPropertyName("ociVersion")] public string OciVersion { get; set; } = SpecVersion.Current;
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("pid")] public int Pid { get; set; }
    [JsonPropertyName("status")] public string Status { get; set; } = "";
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";
    [JsonPropertyName("rootfs")] public string Rootfs { get; set; } = "";
    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }
    [JsonPropertyName("owner")] public string Owner { get; set; } = "";
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }

    public static StateReport From(ContainerView view) => new()
    {
        Id = view.Id,
        Pid = view.Pid,
        Status = view.Status.ToSpecString(),
        Bundle = view.State?.Bundle ?? "",
        Rootfs = view.State?.Rootfs ?? "",
        Created = view.State?.Created ?? default,
        Owner = view.State?.Owner ?? "",
        Annotations = view.State?.Annotations,
    };
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StateReport))]
[JsonSerializable(typeof(List<StateReport>))]
internal partial class StateReportJsonContext : JsonSerializerContext;
