using System.Text.Json.Serialization;

namespace Moat.Oci;

/// <summary>The runtime-spec state of a container, as printed by `state` and passed to hooks.</summary>
public sealed class ContainerState
{
    [JsonPropertyName("ociVersion")]
    public string OciVersion { get; set; } = "";

    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary>One of the <see cref="ContainerStatus"/> values.</summary>
    [JsonPropertyName("status")]
    public string Status { get; set; } = "";

    // The spec only requires a pid while the process exists; 0 means "no process".
    [JsonPropertyName("pid")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Pid { get; set; }

    /// <summary>Absolute path of the bundle directory.</summary>
    [JsonPropertyName("bundle")]
    public string Bundle { get; set; } = "";

    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; set; }
}

public static class ContainerStatus
{
    public const string Creating = "creating";
    public const string Created = "created";
    public const string Running = "running";
    public const string Stopped = "stopped";

    /// <summary>Not in the spec; runc reports it for frozen containers and callers expect it.</summary>
    public const string Paused = "paused";
}
