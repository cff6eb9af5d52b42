namespace Moat.Monitor.Protocol;

/// <summary>What the monitor last knew; the engine checks <see cref="MonitorPid"/> (with its start time) to tell a live monitor from a dead one.</summary>
public sealed record MonitorStatus
{
    /// <summary><see cref="ContainerStates"/>: created, running, restarting, exited.</summary>
    public required string State { get; init; }
    public int MonitorPid { get; init; }
    /// <summary>The monitor's start time in clock ticks since boot (/proc/PID/stat field 22): a recycled pid has another.</summary>
    public ulong MonitorStartTime { get; init; }
    /// <summary>The container's init on the host; 0 when none runs.</summary>
    public int Pid { get; init; }
    /// <summary>The init's start time (field 22 of /proc/PID/stat).</summary>
    public ulong PidStartTime { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    /// <summary>Restarts the policy has made since the engine last started the container.</summary>
    public int RestartCount { get; init; }
    /// <summary>When the monitor gave up with an error (the runtime's create failed...): the sentence.</summary>
    public string? Error { get; init; }
}

public static class ContainerStates
{
    public const string Created = "created";
    public const string Running = "running";
    public const string Restarting = "restarting";
    public const string Exited = "exited";
    public const string Paused = "paused";
}

/// <summary>How the container's last run ended.</summary>
public sealed record ExitRecord
{
    /// <summary>docker's convention: the exit status, or 128+N for death by signal N.</summary>
    public required int ExitCode { get; init; }
    /// <summary>The signal that killed it, 0 if it exited.</summary>
    public int Signal { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    /// <summary>The cgroup's OOM killer killed a process of it during this run.</summary>
    public bool OomKilled { get; init; }
}

/// <summary>The health check's state, docker's `State.Health`.</summary>
public sealed record HealthRecord
{
    /// <summary>starting, healthy, unhealthy.</summary>
    public required string Status { get; init; }
    public int FailingStreak { get; init; }
    /// <summary>The last five checks, oldest first.</summary>
    public IReadOnlyList<HealthProbe> Log { get => log ?? []; init => log = value; }
    readonly IReadOnlyList<HealthProbe>? log;
}

public sealed record HealthProbe
{
    public required DateTimeOffset Start { get; init; }
    public required DateTimeOffset End { get; init; }
    public required int ExitCode { get; init; }
    /// <summary>The check's output, cut to 4 KiB as docker does.</summary>
    public string Output { get => output ?? ""; init => output = value; }
    readonly string? output;
}

public static class HealthStates
{
    public const string Starting = "starting";
    public const string Healthy = "healthy";
    public const string Unhealthy = "unhealthy";
}

/// <summary>
/// One line of the events journal (`&lt;root&gt;/events.jsonl`, appended with O_APPEND in single writes of
/// under PIPE_BUF bytes, so writers in many processes never interleave): docker's event vocabulary.
/// </summary>
public sealed record EngineEvent
{
    /// <summary>container, image, network, volume.</summary>
    public required string Type { get; init; }
    /// <summary>create, start, die, oom, health_status, stop, kill, destroy, restart, pause, unpause, rename, exec_create...</summary>
    public required string Action { get; init; }
    public required string Id { get; init; }
    public required DateTimeOffset Time { get; init; }
    /// <summary>name, image, exitCode, signal, health_status...</summary>
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }
}
