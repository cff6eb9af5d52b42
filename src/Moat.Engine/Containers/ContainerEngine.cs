using Moat.Engine.Events;
using Moat.Engine.Runtime;
using Moat.Engine.Store;
using Moat.Engine.Volumes;
using Moat.Images.Service;
using Moat.Images.Storage;
using Moat.Monitor.Protocol;

namespace Moat.Engine.Containers;

/// <summary>Where the engine finds its helpers: the monitor, the OCI runtime, and `moat` itself (for the monitor's exit command).</summary>
public sealed record EngineOptions
{
    public required ImageServiceOptions Images { get; init; }
    /// <summary>bin/moat-monitor; default: MOAT_MONITOR, else next to the running executable.</summary>
    public string? Monitor { get; init; }
    /// <summary>bin/moat-runtime; default: MOAT_RUNTIME, else next to the running executable.</summary>
    public string? Runtime { get; init; }
    /// <summary>The `moat` the monitor runs for cleanup; default: the running executable.</summary>
    public string? Moat { get; init; }

    public static string Helper(string name, string environment)
    {
        if (Environment.GetEnvironmentVariable(environment) is { Length: > 0 } given)
            return given;
        var directory = Path.GetDirectoryName(Environment.ProcessPath) ?? ".";
        return Path.Combine(directory, name);
    }
}

/// <summary>
/// The container verbs over the store: one instance per `moat` command. Every verb that changes a container
/// holds its <see cref="ContainerLock"/>; every read folds in what the monitor last wrote (<see cref="Reconcile"/>).
/// </summary>
public sealed partial class ContainerEngine : IDisposable
{
    readonly EngineOptions options;
    readonly StorageLayout layout;
    // The image service opens the image catalogue (a second SQLite connection) and more: only verbs that
    // touch images pay for it (ps, inspect, stop... do not).
    readonly Lazy<ImageService> images;

    public ImageService Images => images.Value;
    public ContainerStore Store { get; }
    public VolumeStore Volumes { get; }
    public EventJournal Events { get; }
    public string Root => layout.Root;
    public string ContainersDirectory => layout.Containers;
    /// <summary>The runtime's state: under the store for root, under the user's runtime directory (tmpfs, gone at logout or reboot with the containers) for a user.</summary>
    public string RuntimeRoot => RootlessIdentity.Active ? Path.Combine(RootlessIdentity.RunDirectory, "runtime") : Path.Combine(Root, "runtime");
    public string MonitorExecutable { get; }
    public string DefaultRuntime { get; }
    public string MoatExecutable { get; }

    public ContainerEngine(EngineOptions options)
    {
        this.options = options;
        layout = StorageLayout.ForCurrentUser(options.Images.Root).EnsureCreated();
        images = new Lazy<ImageService>(() => new ImageService(options.Images));
        Store = new ContainerStore(layout.CatalogDatabase);
        Volumes = new VolumeStore(Root, Store);
        Events = new EventJournal(Path.Combine(Root, "events.jsonl"));
        MonitorExecutable = options.Monitor ?? EngineOptions.Helper("moat-monitor", "MOAT_MONITOR");
        DefaultRuntime = options.Runtime ?? EngineOptions.Helper("moat-runtime", "MOAT_RUNTIME");
        MoatExecutable = options.Moat ?? Environment.ProcessPath ?? "moat";
    }

    public string DirectoryOf(string id) => Path.Combine(ContainersDirectory, id);
    string FileOf(string id, string name) => Path.Combine(DirectoryOf(id), name);

    public RuntimeClient RuntimeFor(ContainerRecord record) => new(record.Runtime, record.Settings.RuntimeArgs);

    /// <summary>A container by id, name or id prefix, reconciled with its monitor.</summary>
    public ContainerRecord Get(string reference) => Reconcile(Store.Find(reference));

    /// <summary>Every container, newest first, reconciled.</summary>
    public IReadOnlyList<ContainerRecord> List() => Store.List().Select(Reconcile).ToList();

    /// <summary>
    /// Folds the monitor's files (status.json, exit.json, health.json) and the liveness of the monitor (pid and
    /// start time) into the record; a changed record is written back when nobody holds the container's lock
    /// (the holder writes its own truth).
    /// </summary>
    public ContainerRecord Reconcile(ContainerRecord record)
    {
        var seen = Observe(record);
        if (seen with { MonitorLost = false } == record)
            return seen;
        using var held = ContainerLock.TryAcquire(ContainersDirectory, record.Id, wait: false);
        if (held is null)
            return seen;
        // Under the lock, from the current row: a writer may have changed it since we read.
        if (Store.Get(record.Id) is not { } current)
            return seen;
        var truth = Observe(current, lockHeldHere: true);
        if (truth with { MonitorLost = false } != current)
            Store.Update(truth with { MonitorLost = false });
        return truth;
    }

    /// <summary><see cref="Reconcile"/> for a caller that holds the container's lock: observed and written back.</summary>
    ContainerRecord ReconcileLocked(ContainerRecord record)
    {
        var truth = Observe(record, lockHeldHere: true);
        if (truth with { MonitorLost = false } != record)
            Store.Update(truth with { MonitorLost = false });
        return truth;
    }

    /// <param name="lockHeldHere">This process holds the container's lock (a second flock of ours would look like someone else's).</param>
    ContainerRecord Observe(ContainerRecord record, bool lockHeldHere = false)
    {
        switch (record.State)
        {
            case EngineStates.Creating or EngineStates.Removing:
                // Held: a `moat` is at work on it. Free: that `moat` died half way.
                return !lockHeldHere && ContainerLock.IsHeld(ContainersDirectory, record.Id) ? record : record with { State = EngineStates.Dead, Error = record.Error ?? $"a moat command died while the container was {record.State}: remove it with rm -f" };
            case EngineStates.Exited or EngineStates.Dead:
                return record;
        }
        var status = Read<MonitorStatus>(record.Id, ContainerFiles.Status);
        // exit.json matters only once the container has exited, health.json only with a health check: a running
        // container without one costs `ps` a single file (and /proc) read.
        var health = record.Settings.Health is null ? null : Read<HealthRecord>(record.Id, ContainerFiles.Health);
        var exitRead = false;
        ExitRecord? exitRecord = null;
        ExitRecord? Exit()
        {
            if (!exitRead)
                (exitRecord, exitRead) = (Read<ExitRecord>(record.Id, ContainerFiles.Exit), true);
            return exitRecord;
        }
        var next = record with
        {
            Health = health?.Status ?? record.Health,
            RestartCount = status?.RestartCount ?? record.RestartCount,
            Error = status?.Error ?? record.Error,
        };
        ContainerRecord WithExit(ContainerRecord r) => Exit() is { } exit && (r.StartedAt is null || exit.FinishedAt >= r.StartedAt.Value.AddSeconds(-1))
            ? r with { ExitCode = exit.ExitCode, FinishedAt = exit.FinishedAt, OomKilled = exit.OomKilled }
            : r;
        if (ProcStat.IsAlive(record.MonitorPid, record.MonitorStartTime))
        {
            return (status?.State ?? record.State) switch
            {
                ContainerStates.Running => next with
                {
                    State = record.State == EngineStates.Paused ? EngineStates.Paused : EngineStates.Running,
                    Pid = status?.Pid is > 0 ? status.Pid : record.Pid,
                    StartedAt = status?.StartedAt ?? record.StartedAt,
                },
                ContainerStates.Restarting => WithExit(next with { State = EngineStates.Restarting, Pid = 0 }),
                ContainerStates.Exited => WithExit(next with { State = EngineStates.Exited, Pid = 0 }),
                _ => next with { State = EngineStates.Created },
            };
        }
        // The monitor is gone. Its last exit record, if it wrote one for this run, is the truth; else ask the runtime.
        if (status?.State == ContainerStates.Exited && Exit() is not null)
            return WithExit(next with { State = EngineStates.Exited, Pid = 0 });
        var runtime = RuntimeFor(record).State(record.Id);
        if (runtime is { Status: "running" or "paused" or "created" } live && live.Pid > 0 && ProcStat.StartTime(live.Pid) is not null)
        {
            return next with
            {
                State = live.Status switch { "running" => EngineStates.Running, "paused" => EngineStates.Paused, _ => EngineStates.Created },
                Pid = live.Pid,
                MonitorLost = true,
            };
        }
        // A created container that lost its monitor is still created: start gives it a new one.
        if (record.State == EngineStates.Created)
            return next with { Pid = 0 };
        var ended = WithExit(next with { State = EngineStates.Exited, Pid = 0 });
        return ended == next with { State = EngineStates.Exited, Pid = 0 }
            ? ended with { ExitCode = 255, FinishedAt = ended.FinishedAt ?? DateTimeOffset.UtcNow, Error = "the container's monitor died and its exit status is unknown" }
            : ended;
    }

    T? Read<T>(string id, string file) where T : class
    {
        try
        {
            return ProtocolFiles.Read<T>(FileOf(id, file));
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        networks?.Dispose();
        Store.Dispose();
        if (images.IsValueCreated)
            images.Value.Dispose();
    }
}
