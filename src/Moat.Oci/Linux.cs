using System.Text.Json.Serialization;

namespace Moat.Oci;

public sealed class Linux
{
    [JsonPropertyName("namespaces")]
    public List<LinuxNamespace>? Namespaces { get; set; }

    [JsonPropertyName("uidMappings")]
    public List<LinuxIdMapping>? UidMappings { get; set; }

    [JsonPropertyName("gidMappings")]
    public List<LinuxIdMapping>? GidMappings { get; set; }

    /// <summary>Keyed by clock name: "monotonic" or "boottime".</summary>
    [JsonPropertyName("timeOffsets")]
    public Dictionary<string, LinuxTimeOffset>? TimeOffsets { get; set; }

    [JsonPropertyName("devices")]
    public List<LinuxDevice>? Devices { get; set; }

    [JsonPropertyName("cgroupsPath")]
    public string? CgroupsPath { get; set; }

    [JsonPropertyName("resources")]
    public LinuxResources? Resources { get; set; }

    [JsonPropertyName("intelRdt")]
    public LinuxIntelRdt? IntelRdt { get; set; }

    [JsonPropertyName("sysctl")]
    public Dictionary<string, string>? Sysctl { get; set; }

    [JsonPropertyName("seccomp")]
    public LinuxSeccomp? Seccomp { get; set; }

    [JsonPropertyName("rootfsPropagation")]
    public string? RootfsPropagation { get; set; }

    [JsonPropertyName("maskedPaths")]
    public List<string>? MaskedPaths { get; set; }

    [JsonPropertyName("readonlyPaths")]
    public List<string>? ReadonlyPaths { get; set; }

    [JsonPropertyName("mountLabel")]
    public string? MountLabel { get; set; }

    [JsonPropertyName("personality")]
    public LinuxPersonality? Personality { get; set; }

    /// <summary>Host network devices moved into the container, keyed by their host name.</summary>
    [JsonPropertyName("netDevices")]
    public Dictionary<string, LinuxNetDevice>? NetDevices { get; set; }
}

public sealed class LinuxNamespace
{
    /// <summary>One of the <see cref="NamespaceType"/> names.</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    /// <summary>Join this existing namespace instead of creating one.</summary>
    [JsonPropertyName("path")]
    public string? Path { get; set; }
}

public sealed class LinuxIdMapping
{
    [JsonPropertyName("containerID")]
    public uint ContainerId { get; set; }

    [JsonPropertyName("hostID")]
    public uint HostId { get; set; }

    [JsonPropertyName("size")]
    public uint Size { get; set; }
}

public sealed class LinuxTimeOffset
{
    [JsonPropertyName("secs")]
    public long Secs { get; set; }

    [JsonPropertyName("nanosecs")]
    public uint Nanosecs { get; set; }
}

public sealed class LinuxDevice
{
    /// <summary>c (character), b (block), u (unbuffered character) or p (FIFO).</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    // Nullable so that "missing" (allowed only for FIFOs) can be told apart from 0.
    [JsonPropertyName("major")]
    public long? Major { get; set; }

    [JsonPropertyName("minor")]
    public long? Minor { get; set; }

    [JsonPropertyName("fileMode")]
    public uint? FileMode { get; set; }

    [JsonPropertyName("uid")]
    public uint? Uid { get; set; }

    [JsonPropertyName("gid")]
    public uint? Gid { get; set; }
}

public sealed class LinuxIntelRdt
{
    [JsonPropertyName("closID")]
    public string? ClosId { get; set; }

    [JsonPropertyName("l3CacheSchema")]
    public string? L3CacheSchema { get; set; }

    [JsonPropertyName("memBwSchema")]
    public string? MemBwSchema { get; set; }

    [JsonPropertyName("enableCMT")]
    public bool? EnableCmt { get; set; }

    [JsonPropertyName("enableMBM")]
    public bool? EnableMbm { get; set; }
}

public sealed class LinuxPersonality
{
    /// <summary>LINUX or LINUX32.</summary>
    [JsonPropertyName("domain")]
    public string Domain { get; set; } = "";

    [JsonPropertyName("flags")]
    public List<string>? Flags { get; set; }
}

public sealed class LinuxNetDevice
{
    /// <summary>Name inside the container; empty keeps the host name.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; set; }
}
