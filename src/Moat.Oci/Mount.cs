using System.Text.Json.Serialization;

namespace Moat.Oci;

public sealed class Mount
{
    /// <summary>Whether this is a bind mount: type bind, or a bind/rbind option (a method, so the JSON model has no extra field).</summary>
    public bool IsBind() => Type == "bind" || Options?.Any(o => o is "bind" or "rbind") == true;

    [JsonPropertyName("destination")]
    public string Destination { get; set; } = "";

    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("source")]
    public string? Source { get; set; }

    [JsonPropertyName("options")]
    public List<string>? Options { get; set; }

    /// <summary>Id-mapped mount: how file owners on the source appear at the destination.</summary>
    [JsonPropertyName("uidMappings")]
    public List<LinuxIdMapping>? UidMappings { get; set; }

    [JsonPropertyName("gidMappings")]
    public List<LinuxIdMapping>? GidMappings { get; set; }
}
