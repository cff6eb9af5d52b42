using System.Text.Json.Serialization;

namespace Moat.Oci;

public sealed class Hooks
{
    /// <summary>Deprecated by the spec in favour of createRuntime/createContainer/startContainer, still honoured.</summary>
    [JsonPropertyName("prestart")]
    public List<Hook>? Prestart { get; set; }

    [JsonPropertyName("createRuntime")]
    public List<Hook>? CreateRuntime { get; set; }

    [JsonPropertyName("createContainer")]
    public List<Hook>? CreateContainer { get; set; }

    [JsonPropertyName("startContainer")]
    public List<Hook>? StartContainer { get; set; }

    [JsonPropertyName("poststart")]
    public List<Hook>? Poststart { get; set; }

    [JsonPropertyName("poststop")]
    public List<Hook>? Poststop { get; set; }

    /// <summary>The hook names this model knows, in the order the lifecycle runs them.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

    /// <summary>Every hook list paired with its JSON name, skipping absent lists.</summary>
    public IEnumerable<(string Name, List<Hook> Hooks)> Enumerate()
    {
        if (Prestart is not null) yield return ("prestart", Prestart);
        if (CreateRuntime is not null) yield return ("createRuntime", CreateRuntime);
        if (CreateContainer is not null) yield return ("createContainer", CreateContainer);
        if (StartContainer is not null) yield return ("startContainer", StartContainer);
        if (Poststart is not null) yield return ("poststart", Poststart);
        if (Poststop is not null) yield return ("poststop", Poststop);
    }
}

public sealed class Hook
{
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    [JsonPropertyName("args")]
    public List<string>? Args { get; set; }

    [JsonPropertyName("env")]
    public List<string>? Env { get; set; }

    /// <summary>Seconds before the hook is aborted; must be positive when set.</summary>
    [JsonPropertyName("timeout")]
    public int? Timeout { get; set; }
}
