using Moat.Monitor.Protocol;

namespace Moat.Engine.Store;

/// <summary>A container as the database keeps it, after <see cref="Containers.Reconciler"/> has folded in what its monitor last wrote.</summary>
public sealed record ContainerRecord
{
    /// <summary>64 hex digits; also the OCI runtime's id and the directory's name.</summary>
    public required string Id { get; init; }
    /// <summary>Without docker's leading '/'.</summary>
    public required string Name { get; init; }
    /// <summary>`sha256:...` of the image config.</summary>
    public required string ImageId { get; init; }
    /// <summary>The image as the user named it (or its id when it had no name).</summary>
    public required string ImageName { get; init; }
    public required DateTimeOffset Created { get; init; }
    /// <summary><see cref="EngineStates"/>.</summary>
    public required string State { get; init; }
    /// <summary>The init's host pid while it runs.</summary>
    public int Pid { get; init; }
    public int MonitorPid { get; init; }
    /// <summary>Field 22 of the monitor's /proc/PID/stat when it was started: a recycled pid has another.</summary>
    public ulong MonitorStartTime { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public int ExitCode { get; init; }
    public int RestartCount { get; init; }
    /// <summary>starting, healthy, unhealthy; null without a health check.</summary>
    public string? Health { get; init; }
    public bool OomKilled { get; init; }
    /// <summary>The last failure of the container or its monitor, as a sentence.</summary>
    public string? Error { get; init; }
    public required string Runtime { get; init; }
    public required string Isolation { get; init; }
    public required ContainerSettings Settings { get; init; }

    /// <summary>Not stored: true when the init runs but its monitor is gone (killed): stop and rm -f still work.</summary>
    public bool MonitorLost { get; init; }

    public string ShortId => Id[..12];
    public bool IsRunning => State is EngineStates.Running or EngineStates.Paused or EngineStates.Restarting;
}

/// <summary>A container's states: docker's (created, running, paused, restarting, exited, dead) and the engine's own transient ones.</summary>
public static class EngineStates
{
    /// <summary>The record exists, its files are being made: a `moat` killed here leaves this for rm -f / system prune.</summary>
    public const string Creating = "creating";
    public const string Created = ContainerStates.Created;
    public const string Running = ContainerStates.Running;
    public const string Paused = ContainerStates.Paused;
    public const string Restarting = ContainerStates.Restarting;
    public const string Exited = ContainerStates.Exited;
    /// <summary>Half made or half removed by a `moat` that died: only rm -f helps.</summary>
    public const string Dead = "dead";
    public const string Removing = "removing";
}

/// <summary>What run/create asked that the engine needs again later (start, stop, inspect...).</summary>
public sealed record ContainerSettings
{
    public bool Tty { get; init; }
    public bool Interactive { get; init; }
    public bool AutoRemove { get; init; }
    public string StopSignal { get; init; } = "SIGTERM";
    public int StopTimeout { get; init; } = 10;
    public RestartPolicy Restart { get; init; } = new();
    public HealthCheck? Health { get; init; }
    public Dictionary<string, string> Labels { get; init; } = [];
    public List<MountRecord> Mounts { get; init; } = [];
    /// <summary>Flags before every runtime verb (`--root DIR`...).</summary>
    public List<string> RuntimeArgs { get; init; } = [];
    public string? Network { get; init; }
    /// <summary>The image's digest as the trust policy and signatures know it: the one it was pulled by (an index for a multi-platform image) when `run` pulled it, else its stored repo digest (`sha256:...`).</summary>
    public string? ImageDigest { get; init; }
    public string LogDriver { get; init; } = LogDrivers.K8sFile;
    public string? LogPath { get; init; }
    public long LogMaxSize { get; init; }
    public int LogMaxFiles { get; init; } = 1;
    public bool Init { get; init; }
    /// <summary>process.args as the spec has them (entrypoint + command).</summary>
    public List<string> Args { get; init; } = [];
    public List<string>? Entrypoint { get; init; }
    public List<string>? Command { get; init; }
    public List<string> Env { get; init; } = [];
    public string? User { get; init; }
    public string WorkingDir { get; init; } = "/";
    public string Hostname { get; init; } = "";
    public bool ReadOnlyRootfs { get; init; }
    public bool Privileged { get; init; }
    /// <summary>Ports published as `host:container/proto` (the networks issue fills them); exposed ports of the image.</summary>
    public List<string> Ports { get; init; } = [];
    public List<string> ExposedPorts { get; init; } = [];
    /// <summary>What `update` set last (docker's names → values as given).</summary>
    public Dictionary<string, string> Resources { get; init; } = [];
}

/// <summary>A mount as made: bind, volume (named or anonymous) or tmpfs.</summary>
public sealed record MountRecord
{
    public required string Type { get; init; }
    /// <summary>Host path (bind, and a volume's _data); null for tmpfs.</summary>
    public string? Source { get; init; }
    public required string Destination { get; init; }
    /// <summary>The volume's name.</summary>
    public string? Name { get; init; }
    public bool ReadOnly { get; init; }
    public bool Anonymous { get; init; }
    public List<string> Options { get; init; } = [];
}
