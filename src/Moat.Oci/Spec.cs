using System.Text.Json.Serialization;

namespace Moat.Oci;

/// <summary>The container configuration (config.json) of OCI runtime-spec 1.2, Linux parts.</summary>
public sealed class Spec
{
    [JsonPropertyName("ociVersion")]
    public string OciVersion { get; set; } = "";

    [JsonPropertyName("process")]
    public Process? Process { get; set; }

    [JsonPropertyName("root")]
    public Root? Root { get; set; }

    [JsonPropertyName("hostname")]
    public string? Hostname { get; set; }

    [JsonPropertyName("domainname")]
    public string? Domainname { get; set; }

    [JsonPropertyName("mounts")]
    public List<Mount>? Mounts { get; set; }

    [JsonPropertyName("hooks")]
    public Hooks? Hooks { get; set; }

    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; set; }

    [JsonPropertyName("linux")]
    public Linux? Linux { get; set; }
}

public sealed class Root
{
    /// <summary>Absolute, or relative to the bundle directory.</summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    [JsonPropertyName("readonly")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Readonly { get; set; }
}
