using System.Text.Json.Serialization;

namespace Moat.Images.Model;

/// <summary>The image configuration (image-spec config.md; Docker's config has the same fields plus a few more).</summary>
public sealed class ImageConfig
{
    [JsonPropertyName("created")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? Created { get; set; }
    [JsonPropertyName("author")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Author { get; set; }
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "";
    [JsonPropertyName("os")] public string Os { get; set; } = "";
    [JsonPropertyName("os.version")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? OsVersion { get; set; }
    [JsonPropertyName("variant")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Variant { get; set; }
    [JsonPropertyName("config")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ContainerConfig? Config { get; set; }
    [JsonPropertyName("rootfs")] public RootFs RootFs { get; set; } = new();
    [JsonPropertyName("history")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<HistoryEntry>? History { get; set; }
}

/// <summary>The execution parameters an image carries (`config` in the image config).</summary>
public sealed class ContainerConfig
{
    [JsonPropertyName("User")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? User { get; set; }
    [JsonPropertyName("ExposedPorts")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, EmptyObject>? ExposedPorts { get; set; }
    [JsonPropertyName("Env")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Env { get; set; }
    [JsonPropertyName("Entrypoint")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Entrypoint { get; set; }
    [JsonPropertyName("Cmd")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Cmd { get; set; }
    [JsonPropertyName("Volumes")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, EmptyObject>? Volumes { get; set; }
    [JsonPropertyName("WorkingDir")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? WorkingDir { get; set; }
    [JsonPropertyName("Labels")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, string>? Labels { get; set; }
    [JsonPropertyName("StopSignal")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? StopSignal { get; set; }
    [JsonPropertyName("ArgsEscaped")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? ArgsEscaped { get; set; }
    /// <summary>Docker's HEALTHCHECK (not in the OCI spec; the engine issue runs it).</summary>
    [JsonPropertyName("Healthcheck")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public HealthcheckConfig? Healthcheck { get; set; }
}

public sealed class HealthcheckConfig
{
    [JsonPropertyName("Test")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<string>? Test { get; set; }
    /// <summary>Durations in nanoseconds, as Docker writes them.</summary>
    [JsonPropertyName("Interval")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Interval { get; set; }
    [JsonPropertyName("Timeout")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long Timeout { get; set; }
    [JsonPropertyName("StartPeriod")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public long StartPeriod { get; set; }
    [JsonPropertyName("Retries")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public int Retries { get; set; }
}

/// <summary>The `{}` values of ExposedPorts and Volumes.</summary>
public sealed class EmptyObject;

public sealed class RootFs
{
    [JsonPropertyName("type")] public string Type { get; set; } = "layers";
    /// <summary>Digests of the uncompressed layer tars, in order.</summary>
    [JsonPropertyName("diff_ids")] public List<string> DiffIds { get; set; } = [];
}

public sealed class HistoryEntry
{
    [JsonPropertyName("created")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? Created { get; set; }
    [JsonPropertyName("created_by")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? CreatedBy { get; set; }
    [JsonPropertyName("author")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Author { get; set; }
    [JsonPropertyName("comment")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Comment { get; set; }
    [JsonPropertyName("empty_layer")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool EmptyLayer { get; set; }
}
