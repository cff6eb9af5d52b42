using System.Text.Json.Serialization;

namespace Moat.Oci;

public sealed class Process
{
    [JsonPropertyName("terminal")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Terminal { get; set; }

    [JsonPropertyName("consoleSize")]
    public ConsoleSize? ConsoleSize { get; set; }

    // Not optional in the spec's Go model: always written, defaults to root.
    [JsonPropertyName("user")]
    public User User { get; set; } = new();

    [JsonPropertyName("args")]
    public List<string>? Args { get; set; }

    /// <summary>Windows only; kept so a round trip does not lose it.</summary>
    [JsonPropertyName("commandLine")]
    public string? CommandLine { get; set; }

    [JsonPropertyName("env")]
    public List<string>? Env { get; set; }

    [JsonPropertyName("cwd")]
    public string Cwd { get; set; } = "";

    [JsonPropertyName("capabilities")]
    public LinuxCapabilities? Capabilities { get; set; }

    [JsonPropertyName("rlimits")]
    public List<PosixRlimit>? Rlimits { get; set; }

    [JsonPropertyName("noNewPrivileges")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool NoNewPrivileges { get; set; }

    [JsonPropertyName("apparmorProfile")]
    public string? ApparmorProfile { get; set; }

    [JsonPropertyName("oomScoreAdj")]
    public int? OomScoreAdj { get; set; }

    [JsonPropertyName("scheduler")]
    public Scheduler? Scheduler { get; set; }

    [JsonPropertyName("selinuxLabel")]
    public string? SelinuxLabel { get; set; }

    [JsonPropertyName("ioPriority")]
    public IoPriority? IoPriority { get; set; }

    [JsonPropertyName("execCPUAffinity")]
    public CpuAffinity? ExecCpuAffinity { get; set; }
}

public sealed class ConsoleSize
{
    [JsonPropertyName("height")]
    public ulong Height { get; set; }

    [JsonPropertyName("width")]
    public ulong Width { get; set; }
}

public sealed class User
{
    [JsonPropertyName("uid")]
    public uint Uid { get; set; }

    [JsonPropertyName("gid")]
    public uint Gid { get; set; }

    [JsonPropertyName("umask")]
    public uint? Umask { get; set; }

    [JsonPropertyName("additionalGids")]
    public List<uint>? AdditionalGids { get; set; }

    /// <summary>Windows only; kept so a round trip does not lose it.</summary>
    [JsonPropertyName("username")]
    public string? Username { get; set; }
}

public sealed class LinuxCapabilities
{
    [JsonPropertyName("bounding")]
    public List<string>? Bounding { get; set; }

    [JsonPropertyName("effective")]
    public List<string>? Effective { get; set; }

    [JsonPropertyName("inheritable")]
    public List<string>? Inheritable { get; set; }

    [JsonPropertyName("permitted")]
    public List<string>? Permitted { get; set; }

    [JsonPropertyName("ambient")]
    public List<string>? Ambient { get; set; }
}

public sealed class PosixRlimit
{
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    [JsonPropertyName("hard")]
    public ulong Hard { get; set; }

    [JsonPropertyName("soft")]
    public ulong Soft { get; set; }
}

public sealed class Scheduler
{
    /// <summary>SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE or SCHED_DEADLINE.</summary>
    [JsonPropertyName("policy")]
    public string Policy { get; set; } = "";

    [JsonPropertyName("nice")]
    public int? Nice { get; set; }

    [JsonPropertyName("priority")]
    public int? Priority { get; set; }

    [JsonPropertyName("flags")]
    public List<string>? Flags { get; set; }

    [JsonPropertyName("runtime")]
    public ulong? Runtime { get; set; }

    [JsonPropertyName("deadline")]
    public ulong? Deadline { get; set; }

    [JsonPropertyName("period")]
    public ulong? Period { get; set; }
}

public sealed class IoPriority
{
    /// <summary>IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE.</summary>
    [JsonPropertyName("class")]
    public string Class { get; set; } = "";

    [JsonPropertyName("priority")]
    public int Priority { get; set; }
}

public sealed class CpuAffinity
{
    /// <summary>CPU list (e.g. "0-3,7") the process is placed on before it joins the container cgroup.</summary>
    [JsonPropertyName("initial")]
    public string? Initial { get; set; }

    /// <summary>CPU list the process runs on once it is in the container cgroup.</summary>
    [JsonPropertyName("final")]
    public string? Final { get; set; }
}
