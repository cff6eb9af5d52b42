namespace Moat.Monitor.Protocol;

/// <summary>
/// What the engine tells a container's monitor (`moat-monitor CONTAINER_DIR`): written by the engine as
/// <see cref="ContainerFiles.MonitorConfig"/> in the container's directory before the monitor starts, read
/// once by the monitor. The monitor runs the OCI runtime's create (and, after a restart, start), owns the
/// container's stdio, writes its log, waits for it, applies the restart policy, runs health checks and
/// records what happened in files of that directory (<see cref="ContainerFiles"/>). It never opens the
/// engine's database: the engine reads those files when it next looks (podman and conmon work the same way).
/// </summary>
public sealed record MonitorConfig
{
    /// <summary>The container's id (64 hex digits), also its id for the OCI runtime.</summary>
    public required string Id { get; init; }
    /// <summary>The OCI runtime's executable (bin/moat-runtime by default; any runtime with runc's command line).</summary>
    public required string Runtime { get; init; }
    /// <summary>Global flags put before every runtime verb, e.g. `--root DIR`, `--isolation sandbox`.</summary>
    public IReadOnlyList<string> RuntimeArgs { get => runtimeArgs ?? []; init => runtimeArgs = value; }
    // The source-generated reader sets every init property, absent ones to null or 0 (initializers do not
    // survive it): the getters give the documented default for those, as docker reads 0 as "default".
    readonly IReadOnlyList<string>? runtimeArgs;
    /// <summary>The OCI bundle (config.json, and the rootfs it names).</summary>
    public required string Bundle { get; init; }
    /// <summary>process.terminal: the monitor receives the pty master through --console-socket.</summary>
    public bool Terminal { get; init; }
    /// <summary>`-i`: the container's stdin stays open and is fed from attached clients; otherwise it is /dev/null.</summary>
    public bool Stdin { get; init; }
    /// <summary>The log file; null: no log (the `none` driver).</summary>
    public string? LogPath { get; init; }
    /// <summary>`k8s-file` (podman's default) or `json-file` (docker's).</summary>
    public string LogDriver { get => logDriver ?? LogDrivers.K8sFile; init => logDriver = value; }
    readonly string? logDriver;
    /// <summary>Rotate the log when it would grow past this many bytes; 0: never.</summary>
    public long LogMaxSize { get; init; }
    /// <summary>How many rotated files to keep (LogPath.1 ... LogPath.N), at least 1 when rotating.</summary>
    public int LogMaxFiles { get => Math.Max(1, logMaxFiles); init => logMaxFiles = value; }
    readonly int logMaxFiles = 1;
    public RestartPolicy Restart { get => restart ?? new(); init => restart = value; }
    readonly RestartPolicy? restart;
    /// <summary>null: no health check.</summary>
    public HealthCheck? Health { get; init; }
    /// <summary>
    /// Run after the container's last exit (no restart follows), with the monitor's environment, e.g.
    /// `moat container cleanup ID` (what `--rm` and unmounting need); its failure is logged, not fatal.
    /// </summary>
    public IReadOnlyList<string>? ExitCommand { get; init; }
    /// <summary>Where the monitor appends its events (one JSON line each, <see cref="EngineEvent"/>); null: none.</summary>
    public string? EventsPath { get; init; }
    /// <summary>Container name, for events.</summary>
    public string? Name { get; init; }
    /// <summary>Image name, for events.</summary>
    public string? Image { get; init; }
}

public static class LogDrivers
{
    public const string K8sFile = "k8s-file";
    public const string JsonFile = "json-file";
    public const string None = "none";
}

/// <summary>docker's --restart: `no`, `on-failure[:N]`, `always`, `unless-stopped`.</summary>
public sealed record RestartPolicy
{
    public string Name { get => name ?? RestartPolicies.No; init => name = value; }
    readonly string? name;
    /// <summary>on-failure's N; 0: no limit.</summary>
    public int MaximumRetryCount { get; init; }
}

public static class RestartPolicies
{
    public const string No = "no";
    public const string OnFailure = "on-failure";
    public const string Always = "always";
    public const string UnlessStopped = "unless-stopped";
}

/// <summary>docker's HEALTHCHECK / --health-*: the command runs in the container through the runtime's exec.</summary>
public sealed record HealthCheck
{
    /// <summary>The argv to exec (`CMD-SHELL x` has become ["/bin/sh","-c","x"] already).</summary>
    public required IReadOnlyList<string> Command { get; init; }
    /// <summary>Zero (or absent) means the default, 30 s, as in docker.</summary>
    public TimeSpan Interval { get => interval > TimeSpan.Zero ? interval : TimeSpan.FromSeconds(30); init => interval = value; }
    readonly TimeSpan interval;
    /// <summary>Zero (or absent) means the default, 30 s, as in docker.</summary>
    public TimeSpan Timeout { get => timeout > TimeSpan.Zero ? timeout : TimeSpan.FromSeconds(30); init => timeout = value; }
    readonly TimeSpan timeout;
    public TimeSpan StartPeriod { get; init; } = TimeSpan.Zero;
    /// <summary>Zero (or absent) means the default, 3, as in docker.</summary>
    public int Retries { get => retries > 0 ? retries : 3; init => retries = value; }
    readonly int retries;
}
