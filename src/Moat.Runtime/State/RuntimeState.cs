using System.Text.Json.Serialization;
using Moat.Oci;
using Moat.Oci.Json;

namespace Moat.Runtime.State;

/// <summary>What the runtime remembers about one container, in &lt;root&gt;/&lt;id&gt;/state.json.</summary>
public sealed class RuntimeState
{
    /// <summary>"creating" until the init stage reported success, then "created".</summary>
    [JsonPropertyName("phase")] public string Phase { get; set; } = Phases.Creating;
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("pid")] public int Pid { get; set; }
    /// <summary>Start time of the init process (clock ticks since boot): tells it apart from a later process with the same pid.</summary>
    [JsonPropertyName("pidStartTime")] public ulong PidStartTime { get; set; }
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";
    [JsonPropertyName("rootfs")] public string Rootfs { get; set; } = "";
    [JsonPropertyName("created")] public DateTimeOffset Created { get; set; }
    [JsonPropertyName("owner")] public string Owner { get; set; } = "";
    /// <summary>The tier that made the container ("sandbox", "vm"); null for the container tier. Every later verb goes to that tier.</summary>
    [JsonPropertyName("isolation")] public string? Isolation { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    /// <summary>Every cgroup directory of the container, so that delete can remove them even after a crash.</summary>
    [JsonPropertyName("cgroupDirectories")] public List<string> CgroupDirectories { get; set; } = [];
    /// <summary>Whether the runtime made those directories (a joined, pre-existing cgroup is not removed).</summary>
    [JsonPropertyName("cgroupCreated")] public bool CgroupCreated { get; set; }
    [JsonPropertyName("cgroupPath")] public string CgroupPath { get; set; } = "";
    /// <summary>The validated config the container was created from: exec builds on it even if the bundle changed.</summary>
    [JsonPropertyName("config")]
    public Spec? Config
    {
        get
        {
            if (configJson is { } json)
            {
                config = ParseDeferredConfig(json);
                configJson = null;
            }
            return config;
        }
        set
        {
            config = value;
            configJson = null;
        }
    }

    Spec? config;
    byte[]? configJson;
    Func<Exception>? configError;

    /// <summary>
    /// The config as read from state.json, not parsed yet. start, state, kill and pause never look
    /// at it, and parsing the ~8 KB document (the seccomp profile alone is 350 syscall names) was
    /// a measurable part of their run time; it is parsed on first use, and written back as it was.
    /// </summary>
    internal byte[]? DeferredConfigJson => configJson;

    /// <param name="error">What to throw if the document turns out to be broken: the error the
    /// eager read of the whole state.json would have given.</param>
    internal void DeferConfig(byte[] json, Func<Exception> error)
    {
        config = null;
        configJson = json;
        configError = error;
    }

    Spec ParseDeferredConfig(byte[] json)
    {
        try
        {
            return SpecJson.ReadSpec(json);
        }
        catch (System.Text.Json.JsonException) when (configError is not null)
        {
            throw configError();
        }
    }

    public static class Phases
    {
        public const string Creating = "creating", Created = "created";
    }
}

// Read and written by RuntimeJson (by hand: see there why); the names above are its property names.
