using Moat.Engine.Monitor;
using Moat.Engine.Names;
using Moat.Engine.Store;
using Moat.Images.Model;
using Moat.Interop;
using Moat.Monitor.Protocol;
using AttachClient = Moat.Engine.Monitor.AttachClient;

namespace Moat.Engine.Containers;

public sealed partial class ContainerEngine
{
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Makes sure the container has a live monitor holding a created container, and connects to it: a
    /// container whose monitor has gone (exited, or killed) first gets a new one. The caller then sends Start
    /// on this connection (after attaching, to see the output from its first byte).
    /// </summary>
    public (ContainerRecord Record, AttachClient? Client) PrepareStart(string reference)
    {
        using var held = ContainerLock.Acquire(ContainersDirectory, Store.Find(reference).Id);
        var record = ReconcileLocked(Store.Find(reference));
        switch (record.State)
        {
            case EngineStates.Running or EngineStates.Restarting:
                return (record, null);
            case EngineStates.Paused:
                throw new EngineException($"container {record.Name} is paused: unpause it instead");
            case EngineStates.Dead or EngineStates.Creating or EngineStates.Removing:
                throw new EngineException($"container {record.Name} is {record.State}: remove it with rm -f");
        }
        if (record.State == EngineStates.Exited || !ProcStat.IsAlive(record.MonitorPid, record.MonitorStartTime))
            record = Relaunch(record);
        // The exit that follows this start is not one anybody asked for (yet).
        File.Delete(FileOf(record.Id, ContainerFiles.StopRequested));
        return (record, AttachClient.Connect(DirectoryOf(record.Id)));
    }

    /// <summary>A new monitor (and runtime create) for a container whose last monitor has gone.</summary>
    ContainerRecord Relaunch(ContainerRecord record)
    {
        // Until the monitor reports the runtime's create: the migration into v1 cgroups must not wait.
        using var warmth = MigrationWarmth.Start();
        var runtime = RuntimeFor(record);
        runtime.Delete(record.Id);
        foreach (var file in new[] { ContainerFiles.Status, ContainerFiles.Exit, ContainerFiles.Health, ContainerFiles.StopRequested, ContainerFiles.AttachSocket })
            File.Delete(FileOf(record.Id, file));
        Images.Snapshots.Mount(record.Id);
        // Like the layer's mount, its network namespace's is gone after a reboot: made again, same addresses.
        if (!Moat.Images.Storage.RootlessIdentity.Active)
            Networks.Restore(record.Id);
        WriteMonitorConfig(record);
        var launched = MonitorLauncher.Launch(MonitorExecutable, DirectoryOf(record.Id));
        record = record with
        {
            State = EngineStates.Created, MonitorPid = launched.MonitorPid, MonitorStartTime = launched.MonitorStartTime,
            Pid = launched.ContainerPid, Error = null, Health = record.Settings.Health is null ? null : HealthStates.Starting,
        };
        Store.Update(record);
        return record;
    }

    /// <summary>Records that the monitor started the container (its status file says so too, soon or already).</summary>
    public ContainerRecord MarkStarted(string id, int pid)
    {
        using var held = ContainerLock.Acquire(ContainersDirectory, id);
        if (Store.Get(id) is not { } record)
            throw new NoSuchContainerException(id);
        if (record.State is EngineStates.Created)
        {
            record = record with { State = EngineStates.Running, Pid = pid, StartedAt = DateTimeOffset.UtcNow, RestartCount = 0, ExitCode = 0, FinishedAt = null };
            Store.Update(record);
        }
        return record;
    }

    /// <summary>`moat start` without attaching: start and return once the runtime's start succeeded.</summary>
    public ContainerRecord Start(string reference)
    {
        var (record, client) = PrepareStart(reference);
        if (client is null)
            return record;
        using (client)
        {
            var pid = client.Start();
            return MarkStarted(record.Id, pid);
        }
    }

    /// <summary>
    /// `moat stop`: the stop signal (StopSignal, else SIGTERM), up to <paramref name="timeout"/> for the exit,
    /// then SIGKILL. The stop-requested file keeps the restart policy from bringing it back.
    /// </summary>
    public ContainerRecord Stop(string reference, int? timeout = null)
    {
        var found = Store.Find(reference);
        using var held = ContainerLock.Acquire(ContainersDirectory, found.Id);
        var record = ReconcileLocked(Store.Find(found.Id));
        if (!record.IsRunning)
            return record;
        record = StopLocked(record, record.Settings.StopSignal, TimeSpan.FromSeconds(timeout ?? record.Settings.StopTimeout));
        Events.Container("stop", record.Id, record.Name, record.ImageName);
        return record;
    }

    ContainerRecord StopLocked(ContainerRecord record, string signal, TimeSpan timeout)
    {
        var runtime = RuntimeFor(record);
        File.WriteAllBytes(FileOf(record.Id, ContainerFiles.StopRequested), []);
        if (timeout > TimeSpan.Zero)
        {
            runtime.Kill(record.Id, signal);
            // A frozen process cannot act on its signal: thaw it.
            if (record.State == EngineStates.Paused)
                runtime.Run("resume", record.Id);
            if (WaitForExit(record, DateTime.UtcNow + timeout) is { } stopped)
                return stopped;
        }
        runtime.Kill(record.Id, "SIGKILL", all: true);
        if (record.State == EngineStates.Paused)
            runtime.Run("resume", record.Id);
        return WaitForExit(record, DateTime.UtcNow + TimeSpan.FromSeconds(30))
            ?? throw new EngineException($"container {record.Name} did not exit after SIGKILL within 30 seconds");
    }

    /// <summary>Polls until the container is no longer running; null at the deadline. Without a monitor, the runtime's word is taken and the exit recorded here.</summary>
    ContainerRecord? WaitForExit(ContainerRecord record, DateTime deadline)
    {
        while (true)
        {
            var now = Store.Get(record.Id) is { } current ? Observe(current with { State = current.State == EngineStates.Paused ? EngineStates.Running : current.State }, lockHeldHere: true) : null;
            if (now is null)
                return record with { State = EngineStates.Exited };
            if (!now.IsRunning && now.State != EngineStates.Created)
            {
                if (now.MonitorLost || !ProcStat.IsAlive(record.MonitorPid, record.MonitorStartTime))
                    RuntimeFor(record).Delete(record.Id);
                Store.Update(now with { MonitorLost = false });
                return now;
            }
            if (now.MonitorLost && RuntimeFor(record).State(record.Id) is not { Status: "running" or "paused" or "created" })
            {
                var ended = now with { State = EngineStates.Exited, Pid = 0, ExitCode = 137, FinishedAt = DateTimeOffset.UtcNow, MonitorLost = false, Error = "the container's monitor had died; the exit status is assumed" };
                RuntimeFor(record).Delete(record.Id);
                Store.Update(ended);
                return ended;
            }
            if (DateTime.UtcNow >= deadline)
                return null;
            Thread.Sleep(PollInterval);
        }
    }

    /// <summary>`moat kill`: one signal to the init (default SIGKILL); asked-for, so no restart follows.</summary>
    public ContainerRecord Kill(string reference, string signal)
    {
        var found = Store.Find(reference);
        using var held = ContainerLock.Acquire(ContainersDirectory, found.Id);
        var record = ReconcileLocked(Store.Find(found.Id));
        if (!record.IsRunning)
            throw new EngineException($"container {record.Name} is not running");
        File.WriteAllBytes(FileOf(record.Id, ContainerFiles.StopRequested), []);
        if (!RuntimeFor(record).Kill(record.Id, signal))
            throw new EngineException($"cannot send {signal} to container {record.Name}: the runtime refused (is the signal valid?)");
        Events.Container("kill", record.Id, record.Name, record.ImageName, new Dictionary<string, string> { ["signal"] = signal });
        return record;
    }

    public ContainerRecord Restart(string reference, int? timeout)
    {
        var stopped = Stop(reference, timeout);
        var started = Start(stopped.Id);
        Events.Container("restart", started.Id, started.Name, started.ImageName);
        return started;
    }

    public ContainerRecord Pause(string reference) => Freeze(reference, pause: true);
    public ContainerRecord Unpause(string reference) => Freeze(reference, pause: false);

    ContainerRecord Freeze(string reference, bool pause)
    {
        var found = Store.Find(reference);
        using var held = ContainerLock.Acquire(ContainersDirectory, found.Id);
        var record = ReconcileLocked(Store.Find(found.Id));
        if (pause && record.State != EngineStates.Running)
            throw new EngineException($"container {record.Name} is not running");
        if (!pause && record.State != EngineStates.Paused)
            throw new EngineException($"container {record.Name} is not paused");
        RuntimeFor(record).Must(pause ? "pause" : "unpause", pause ? "pause" : "resume", record.Id);
        record = record with { State = pause ? EngineStates.Paused : EngineStates.Running, MonitorLost = false };
        Store.Update(record);
        Events.Container(pause ? "pause" : "unpause", record.Id, record.Name, record.ImageName);
        return record;
    }

    /// <summary>`moat wait`: blocks until the container has exited (a restart policy's restarts are waited through); its exit code.</summary>
    public int Wait(string reference, CancellationToken cancellation = default)
    {
        var record = Get(reference);
        while (true)
        {
            if (record.State is EngineStates.Exited or EngineStates.Dead)
                return record.ExitCode;
            cancellation.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(100));
            cancellation.ThrowIfCancellationRequested();
            if (Store.Get(record.Id) is not { } current)
                return record.ExitCode; // removed (--rm) as it exited: its last known exit
            var exit = Read<ExitRecord>(record.Id, ContainerFiles.Exit);
            record = Reconcile(current);
            if (record.State == EngineStates.Exited && exit is not null)
                record = record with { ExitCode = exit.ExitCode };
        }
    }

    /// <summary>`moat rm`: a running container only with <paramref name="force"/> (killed first); -v also its anonymous volumes.</summary>
    public void Remove(string reference, bool force, bool volumes)
    {
        var found = Store.Find(reference);
        using var held = ContainerLock.Acquire(ContainersDirectory, found.Id);
        var record = ReconcileLocked(Store.Find(found.Id));
        if (record.IsRunning && !force)
            throw new EngineException($"cannot remove container {record.Name}: it is {record.State}; stop it first, or use rm -f");
        if (record.IsRunning)
            record = StopLocked(record, "SIGKILL", TimeSpan.Zero);
        Destroy(record, volumes || record.Settings.AutoRemove, killMonitor: true);
        Events.Container("destroy", record.Id, record.Name, record.ImageName);
    }

    /// <summary>
    /// Removes whatever exists of a container, in the order that keeps a crash harmless: the record says
    /// "removing" first, then monitor, runtime state, layer, volumes, image use, and the record last.
    /// The caller holds the lock.
    /// </summary>
    /// <param name="runtimeDeleted">The monitor has deleted the runtime's container already (the exit command runs after that): no runtime call is needed.</param>
    void Destroy(ContainerRecord record, bool removeVolumes, bool killMonitor, bool runtimeDeleted = false)
    {
        if (Store.Get(record.Id) is not null)
            Store.Update(record with { State = EngineStates.Removing, MonitorLost = false });
        if (killMonitor && ProcStat.IsAlive(record.MonitorPid, record.MonitorStartTime))
        {
            Libc.kill(record.MonitorPid, Libc.SIGKILL);
            MonitorLauncher.Reap(record.MonitorPid);
        }
        if (!runtimeDeleted)
        {
            var runtime = RuntimeFor(record);
            if (runtime.State(record.Id) is { Status: not "stopped" })
                runtime.Kill(record.Id, "SIGKILL", all: true);
            runtime.Delete(record.Id);
        }
        Images.Snapshots.RemoveContainerLayer(record.Id);
        // none and host never had networking of Moat's (network connect refuses them): no network store to open.
        if (record.Settings.Network is not ("none" or "host"))
            ReleaseNetwork(record.Id);
        if (removeVolumes)
            foreach (var mount in record.Settings.Mounts.Where(m => m.Anonymous && m.Name is not null))
                if (!Store.List().Any(c => c.Id != record.Id && c.Settings.Mounts.Any(m => m.Name == mount.Name)))
                    Volumes.Remove(mount.Name!);
        Images.Catalog.RemoveUser(record.Id);
        Store.Delete(record.Id);
        try { File.Delete(ContainerLock.PathFor(ContainersDirectory, record.Id)); } catch (IOException) { }
    }

    /// <summary>
    /// `moat container cleanup ID`: the exit command a monitor runs after the container's last exit:
    /// unmount the layer, and remove the container when it was run with --rm.
    /// </summary>
    public void Cleanup(string id)
    {
        using var held = ContainerLock.Acquire(ContainersDirectory, id);
        if (Store.Get(id) is not { } current)
            return; // removed already (rm -f, run --rm's own removal)
        var record = Observe(current, lockHeldHere: true);
        if (record.IsRunning || record.State is EngineStates.Created)
            return; // started again meanwhile
        if (record.Settings.AutoRemove)
        {
            // Two runtime processes fewer on run --rm's path: the monitor ran `delete --force` before this command.
            Destroy(record, removeVolumes: true, killMonitor: false, runtimeDeleted: !record.MonitorLost);
            Events.Container("destroy", record.Id, record.Name, record.ImageName);
            return;
        }
        if (record with { MonitorLost = false } != current)
            Store.Update(record with { MonitorLost = false });
        Images.Snapshots.Unmount(id);
    }

    /// <summary>
    /// Before Start: asks the monitor to leave the removal after the last exit to this client (RemoveAfterExit).
    /// False when the monitor does not know the request (one started by an older moat answers Error): its exit
    /// command removes the container then, as before.
    /// </summary>
    public static bool ClaimRemoval(AttachClient client)
    {
        client.Send(AttachFrames.RemoveAfterExit);
        return client.Receive() is { Frame: AttachFrames.RemovalTaken };
    }

    /// <summary>
    /// An attached `run --rm` after the container's exit (it sent RemoveAfterExit before Start): waits for the
    /// monitor's Deleted (the runtime's container is gone, status.json says exited), removes the container as
    /// the exit command would, and answers Removed, so the monitor exits without starting a second `moat`.
    /// False when the monitor went away before Deleted, or the container is still here: the monitor (or the
    /// caller, after the monitor) removes it then.
    /// </summary>
    public bool RemoveAfterExit(string id, AttachClient client)
    {
        while (client.Receive() is { } frame)
        {
            if (frame.Frame != AttachFrames.Deleted)
                continue;
            Cleanup(id);
            if (Store.Get(id) is not null)
                return false;
            try
            {
                client.Send(AttachFrames.Removed);
            }
            catch (SyscallException)
            {
                // The monitor went meanwhile: nothing was left for it to do.
            }
            return true;
        }
        return false;
    }

    /// <summary>`moat rename`.</summary>
    public void Rename(string reference, string newName)
    {
        var found = Store.Find(reference);
        using var held = ContainerLock.Acquire(ContainersDirectory, found.Id);
        var name = ContainerNames.Validate(newName);
        Store.Rename(found.Id, name);
        Events.Container("rename", found.Id, name, found.ImageName, new Dictionary<string, string> { ["oldName"] = "/" + found.Name });
    }

    /// <summary>
    /// `moat update`: the runtime's update with docker's resource flags (runc's names), recorded for inspect;
    /// and/or a new restart policy, which the monitor reads from monitor.json at the container's next exit.
    /// Resources need a running container (they are its cgroup's); a restart policy does not.
    /// </summary>
    public ContainerRecord Update(string reference, IReadOnlyDictionary<string, string> runtimeFlags, IReadOnlyDictionary<string, string> asGiven, RestartPolicy? restart = null)
    {
        var found = Store.Find(reference);
        using var held = ContainerLock.Acquire(ContainersDirectory, found.Id);
        var record = ReconcileLocked(Store.Find(found.Id));
        if (restart is not null && restart.Name != RestartPolicies.No && record.Settings.AutoRemove)
            throw new EngineException($"cannot give container {record.Name} a restart policy: it was run with --rm, which removes it at its first exit");
        if (runtimeFlags.Count > 0)
        {
            if (!record.IsRunning)
                throw new EngineException($"container {record.Name} is not running: update changes a running container's cgroup");
            var args = new List<string> { "update" };
            foreach (var (flag, value) in runtimeFlags)
                args.AddRange([flag, value]);
            args.Add(record.Id);
            RuntimeFor(record).Must("update", [.. args]);
        }
        var resources = new Dictionary<string, string>(record.Settings.Resources);
        foreach (var (k, v) in asGiven) resources[k] = v;
        record = record with { Settings = record.Settings with { Resources = resources, Restart = restart ?? record.Settings.Restart }, MonitorLost = false };
        Store.Update(record);
        // The monitor (if one runs) takes the policy from its config file at the next exit; a new monitor reads it at start.
        if (restart is not null && File.Exists(FileOf(record.Id, ContainerFiles.MonitorConfig)))
            WriteMonitorConfig(record);
        Events.Container("update", record.Id, record.Name, record.ImageName);
        return record;
    }

    /// <summary>`moat container prune`: every container that is not running (created, exited, dead); returns their ids.</summary>
    public IReadOnlyList<string> Prune()
    {
        var removed = new List<string>();
        foreach (var record in List())
        {
            if (record.IsRunning || record.State is EngineStates.Creating or EngineStates.Removing)
                continue;
            using var held = ContainerLock.TryAcquire(ContainersDirectory, record.Id, wait: false);
            if (held is null || Store.Get(record.Id) is not { } current)
                continue;
            var now = Observe(current, lockHeldHere: true);
            if (now.IsRunning)
                continue;
            Destroy(now, removeVolumes: false, killMonitor: true);
            Events.Container("destroy", now.Id, now.Name, now.ImageName);
            removed.Add(now.Id);
        }
        // Leftovers of a crash inside the snapshot store's own steps (temporary and half-removed layers).
        foreach (var directory in Directory.EnumerateDirectories(ContainersDirectory))
        {
            var leaf = Path.GetFileName(directory);
            if (leaf.StartsWith(".removing-", StringComparison.Ordinal)
                || (leaf.StartsWith(".tmp-", StringComparison.Ordinal) && leaf.Split('-') is { Length: >= 3 } parts && !ContainerLock.IsHeld(ContainersDirectory, parts[1])))
                Moat.Images.Layers.TreeRemoval.Remove(directory);
            else if (!leaf.StartsWith('.') && leaf.Length == 64 && Store.Get(leaf) is null && !ContainerLock.IsHeld(ContainersDirectory, leaf))
                Images.Snapshots.RemoveContainerLayer(leaf);
        }
        // Networking a crash left behind (namespaces, veths, addresses, firewall rules of containers gone).
        if (!Moat.Images.Storage.RootlessIdentity.Active)
            Networks.Sweep(id => Store.Get(id) is not null);
        return removed;
    }

    /// <summary>`moat volume prune` / `system prune --volumes`: volumes no container mounts.</summary>
    public IReadOnlyList<string> PruneVolumes(bool anonymousOnly)
    {
        var used = Store.List().SelectMany(c => c.Settings.Mounts).Where(m => m.Name is not null).Select(m => m.Name!).ToHashSet(StringComparer.Ordinal);
        var removed = new List<string>();
        foreach (var volume in Store.Volumes())
        {
            if (used.Contains(volume.Name) || (anonymousOnly && !volume.Anonymous))
                continue;
            Volumes.Remove(volume.Name);
            removed.Add(volume.Name);
        }
        return removed;
    }
}
