using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Monitor;

/// <summary>
/// The monitor of one container: creates it through the runtime, then runs one poll loop on one thread
/// until the container's last exit — attach clients, the container's output (to the log and the
/// clients), its input, its exit (it is the init's subreaper and reaps every child), the restart policy
/// and the health check. Everything it learns goes into the files of the container's directory.
/// </summary>
public sealed unsafe class ContainerMonitor(MonitorConfig config, ContainerDirectory directory, MonitorLog log)
{
    static readonly TimeSpan ExitCommandTimeout = TimeSpan.FromMinutes(5);
    const long FirstRestartDelay = 100, MaxRestartDelay = 60_000, StableRun = 10_000;

    readonly RuntimeClient runtime = new(config, InProcessRuntime.For(config, Environment.ProcessPath, log));
    readonly int selfPid = Environment.ProcessId;
    readonly ulong selfStart = ProcessInfo.StartTime(Environment.ProcessId);
    readonly byte[] readBuffer = new byte[AttachFrames.MaxPayload];
    readonly List<(int Fd, short Events, Action<short> Ready)> watches = [];
    Libc.PollFd[] pollFds = new Libc.PollFd[16];

    ContainerLogWriter? logWriter;
    AttachServer? attach;
    HealthMonitor? health;
    ContainerRun? run;
    string state = ContainerStates.Created;
    DateTimeOffset? startedAt;
    long startedTick;
    int restartCount;
    long restartDelay = FirstRestartDelay;
    long restartDue = long.MaxValue;
    bool done;
    string? finalError;
    /// <summary>Bumped whenever a descriptor may have been closed: the rest of one poll's results are then stale.</summary>
    int generation;

    /// <summary>Creates the container, reports on the sync descriptor, serves until the end; the process's exit code.</summary>
    public int Run()
    {
        try
        {
            if (config.LogPath is { } logPath && config.LogDriver != LogDrivers.None)
                logWriter = new ContainerLogWriter(logPath, config.LogDriver, config.LogMaxSize, config.LogMaxFiles);
            run = ContainerRun.Create(config, runtime, directory, log);
            File.Delete(directory.File(ContainerFiles.AttachSocket));
            attach = new AttachServer(Libc.ListenUnix(directory.SocketPath(ContainerFiles.AttachSocket), Libc.SOCK_SEQPACKET), log);
            if (config.Health is { } check)
                health = new HealthMonitor(check, runtime, directory.File(ContainerFiles.Health), log) { StatusChanged = OnHealthChanged };
            WriteStatus();
        }
        catch (Exception e) when (e is MonitorException or SyscallException or IOException or UnauthorizedAccessException)
        {
            var sentence = e is MonitorException ? e.Message : Moat.Oci.ErrorText.Of(e);
            log.Write($"create: {sentence}");
            if (run is not null)
            {
                run.Dispose();
                run = null;
                DeleteContainer();
            }
            TryWriteStatus(new MonitorStatus { State = ContainerStates.Exited, MonitorPid = selfPid, MonitorStartTime = selfStart, Error = sentence });
            SyncReport.Error(sentence);
            return 1;
        }
        SyncReport.Pid(run.InitPid);
        Loop();
        Finish();
        return 0;
    }

    void Loop()
    {
        while (!done)
        {
            watches.Clear();
            AddWatches();
            var timeout = Timeout();
            var count = watches.Count;
            if (pollFds.Length < count)
                pollFds = new Libc.PollFd[count * 2];
            var fds = pollFds;
            for (var i = 0; i < count; i++)
                fds[i] = new Libc.PollFd { Fd = watches[i].Fd, Events = watches[i].Events };
            int n;
            fixed (Libc.PollFd* p = fds)
                n = Libc.poll(p, (ulong)count, timeout);
            if (n < 0 && Errors.LastErrno != Errors.EINTR)
                throw new SyscallException("poll", Errors.LastErrno);
            var seen = generation;
            for (var i = 0; i < count && n > 0 && seen == generation && !done; i++)
                if (fds[i].Revents != 0)
                    watches[i].Ready(fds[i].Revents);
            if (done)
                break;
            Reap();
            RunTimers();
        }
    }

    void AddWatches()
    {
        if (attach is { } server)
        {
            watches.Add((server.Listener.Fd, Libc.POLLIN, _ => AcceptClients()));
            foreach (var client in server.Clients)
            {
                var c = client;
                var events = c.Closing ? (short)0 : Libc.POLLIN;
                if (c.Pending.Count > 0)
                    events |= Libc.POLLOUT;
                watches.Add((c.Fd.Fd, events, revents => OnClient(c, revents)));
            }
        }
        if (run is { } r)
        {
            watches.Add((r.Pidfd.Fd, Libc.POLLIN, _ => Reap()));
            if (r.Terminal is { } pty)
                watches.Add((pty.Fd, (short)(Libc.POLLIN | (r.PendingInput.Count > 0 ? Libc.POLLOUT : 0)), revents => OnTerminal(r, revents)));
            if (r.Stdout is { } o)
                watches.Add((o.Fd, Libc.POLLIN, _ => ReadOutput(r, isStderr: false)));
            if (r.Stderr is { } e)
                watches.Add((e.Fd, Libc.POLLIN, _ => ReadOutput(r, isStderr: true)));
            if (r.StdinWriter is { } w && r.PendingInput.Count > 0)
                watches.Add((w.Fd, Libc.POLLOUT, _ => WriteInput(r)));
        }
        if (health is { } h)
            foreach (var (fd, ready) in h.Watches())
                watches.Add((fd, Libc.POLLIN, _ => ready()));
    }

    int Timeout()
    {
        var now = Environment.TickCount64;
        var next = Math.Min(restartDue, health?.NextDeadline ?? long.MaxValue);
        // Children the monitor did not start itself (orphans of the runtime) are reaped at least this often;
        // while restarting, a stop-requested file is noticed this quickly.
        var cap = state == ContainerStates.Restarting ? 200 : 5000;
        return (int)Math.Clamp(next - now, 0, cap);
    }

    void RunTimers()
    {
        if (state == ContainerStates.Restarting && (Environment.TickCount64 >= restartDue || StopRequested()))
        {
            restartDue = long.MaxValue;
            Restart();
        }
        health?.OnTimer();
    }

    // ---- children ----

    /// <summary>Reaps every child that has exited (the monitor is a subreaper: orphans of the container's runtime come here too).</summary>
    void Reap()
    {
        while (true)
        {
            Libc.SigInfo info = default;
            var result = Libc.waitid(0 /* P_ALL */, 0, &info, Libc.WEXITED | Libc.WNOHANG);
            if (result < 0)
            {
                if (Errors.LastErrno == Errors.EINTR)
                    continue;
                return; // ECHILD: no children
            }
            if (info.Pid == 0)
                return;
            var signal = info.Code == Libc.CLD_EXITED ? 0 : info.Status;
            var code = signal == 0 ? info.Status : 128 + signal;
            if (run is { } r && info.Pid == r.InitPid)
                OnInitExit(r, code, signal);
            else if (health is { } h && h.Owns(info.Pid))
            {
                generation++;
                h.OnExit(code);
            }
            if (done)
                return;
        }
    }

    void OnInitExit(ContainerRun r, int exitCode, int signal)
    {
        generation++;
        // What the container wrote before it died is still in the pipes: log and forward it first.
        DrainOutput(r);
        var oom = r.Oom.Killed();
        r.Dispose();
        run = null;
        health?.Stop();
        TryWrite(directory.File(ContainerFiles.Exit), new ExitRecord
        {
            ExitCode = exitCode, Signal = signal, FinishedAt = DateTimeOffset.UtcNow, OomKilled = oom,
        });
        if (oom)
            Event("oom");
        Event("die", ("exitCode", exitCode.ToString()));
        attach?.ExitAll(exitCode);
        if (state == ContainerStates.Running && Environment.TickCount64 - startedTick >= StableRun)
            restartDelay = FirstRestartDelay; // docker: a run of 10 s resets the back-off
        var wasStarted = state == ContainerStates.Running;
        if (wasStarted && ShouldRestart(exitCode))
        {
            attach?.CloseRemovers();
            state = ContainerStates.Restarting;
            restartDue = Environment.TickCount64 + restartDelay;
            restartDelay = Math.Min(restartDelay * 2, MaxRestartDelay);
            WriteStatus();
            return;
        }
        done = true;
    }

    bool ShouldRestart(int exitCode)
    {
        if (StopRequested())
            return false;
        var policy = CurrentRestartPolicy();
        return policy.Name switch
        {
            RestartPolicies.Always or RestartPolicies.UnlessStopped => true,
            RestartPolicies.OnFailure => exitCode != 0 && (policy.MaximumRetryCount <= 0 || restartCount < policy.MaximumRetryCount),
            _ => false,
        };
    }

    bool StopRequested() => File.Exists(directory.File(ContainerFiles.StopRequested));

    /// <summary>
    /// The policy as monitor.json says now: `moat update --restart` rewrites the file (atomically) while the
    /// container runs, and the policy only matters at an exit, so it is read then, not once at start.
    /// </summary>
    RestartPolicy CurrentRestartPolicy()
    {
        try
        {
            return ProtocolFiles.Read<MonitorConfig>(directory.File(ContainerFiles.MonitorConfig))?.Restart ?? config.Restart;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or SyscallException)
        {
            log.Write($"restart policy: {directory.File(ContainerFiles.MonitorConfig)} unreadable ({e.Message}); keeping the one read at start");
            return config.Restart;
        }
    }

    void Restart()
    {
        // A stop, or an `update --restart no`, during the back-off delay cancels the restart.
        if (StopRequested() || CurrentRestartPolicy().Name == RestartPolicies.No)
        {
            done = true;
            return;
        }
        DeleteContainer();
        try
        {
            run = ContainerRun.Create(config, runtime, directory, log);
            restartCount++;
            state = ContainerStates.Created;
            Event("restart");
            StartContainer();
        }
        catch (Exception e) when (e is MonitorException or SyscallException or IOException)
        {
            var sentence = e is MonitorException ? e.Message : Moat.Oci.ErrorText.Of(e);
            log.Write($"restart: {sentence}");
            finalError = sentence;
            run?.Dispose();
            run = null;
            done = true;
        }
        generation++;
    }

    /// <summary>The runtime's start; the container runs when it returns.</summary>
    void StartContainer()
    {
        var (code, said) = runtime.Start();
        if (code != 0)
            throw new MonitorException(runtime.ErrorSentence("start", code, said));
        state = ContainerStates.Running;
        startedAt = DateTimeOffset.UtcNow;
        startedTick = Environment.TickCount64;
        WriteStatus();
        Event("start");
        health?.Begin();
    }

    /// <summary>
    /// The last exit: the runtime forgets the container, the status says exited, then either the attached
    /// client that claimed the removal removes it, or the exit command runs.
    /// </summary>
    void Finish()
    {
        health?.Dispose();
        DeleteContainer();
        state = ContainerStates.Exited;
        WriteStatus();
        attach?.StopListening();
        File.Delete(directory.File(ContainerFiles.AttachSocket));
        logWriter?.Dispose();
        var removedByClient = attach is { } server && HandOverRemoval(server);
        attach?.Dispose();
        if (!removedByClient && config.ExitCommand is { Count: > 0 } command)
        {
            try
            {
                var (code, said) = runtime.RunProgram(command[0], command, ExitCommandTimeout);
                if (code != 0)
                    log.Write($"exit command {string.Join(' ', command)} failed with exit code {code}: {said.Trim()}");
            }
            catch (Exception e) when (e is MonitorException or SyscallException)
            {
                log.Write($"exit command {command[0]}: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Tells the clients that claimed the removal (<see cref="AttachFrames.RemoveAfterExit"/>) that they may
    /// remove the container now, and waits until one says it has (true), or all have gone without saying
    /// so, or the exit command's time limit has passed (false: the exit command runs, and finds what is left).
    /// </summary>
    bool HandOverRemoval(AttachServer server)
    {
        foreach (var client in server.Clients.Where(c => c.RemovesContainer).ToList())
            server.Send(client, AttachFrames.Deleted, []);
        var deadline = Environment.TickCount64 + (long)ExitCommandTimeout.TotalMilliseconds;
        var fds = new Libc.PollFd[4];
        while (true)
        {
            var removers = server.Clients.Where(c => c.RemovesContainer).ToList();
            if (removers.Count == 0)
                return false;
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                log.Write("the attached client that was to remove the container did not finish in time: running the exit command");
                return false;
            }
            if (fds.Length < removers.Count)
                fds = new Libc.PollFd[removers.Count];
            for (var i = 0; i < removers.Count; i++)
                fds[i] = new Libc.PollFd { Fd = removers[i].Fd.Fd, Events = (short)(Libc.POLLIN | (removers[i].Pending.Count > 0 ? Libc.POLLOUT : 0)) };
            int n;
            fixed (Libc.PollFd* p = fds)
                n = Libc.poll(p, (ulong)removers.Count, (int)Math.Min(left, int.MaxValue));
            if (n < 0 && Errors.LastErrno != Errors.EINTR)
                throw new SyscallException("poll", Errors.LastErrno);
            for (var i = 0; i < removers.Count && n > 0; i++)
            {
                var client = removers[i];
                var revents = fds[i].Revents;
                if ((revents & Libc.POLLOUT) != 0)
                    server.Flush(client);
                if ((revents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) == 0 || !server.Clients.Contains(client))
                    continue;
                var message = server.Receive(client, out var gone);
                if (gone)
                    server.Drop(client);
                else if (message is { Type: AttachFrames.Removed })
                    return true;
            }
        }
    }

    void DeleteContainer()
    {
        var (code, said) = runtime.ForceDelete();
        if (code != 0)
            log.Write($"runtime delete --force: {runtime.ErrorSentence("delete", code, said)}");
    }

    // ---- attach clients ----

    void AcceptClients()
    {
        while (attach!.Accept() is not null)
            generation++;
    }

    void OnClient(AttachedClient client, short revents)
    {
        var server = attach!;
        if ((revents & Libc.POLLOUT) != 0)
            server.Flush(client);
        if (!server.Clients.Contains(client))
        {
            generation++;
            return;
        }
        if ((revents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) == 0 || client.Closing)
            return;
        var message = server.Receive(client, out var gone);
        if (gone)
        {
            server.Drop(client);
            generation++;
            return;
        }
        if (message is not { } received)
            return;
        var (type, payload) = received;
        switch (type)
        {
            case AttachFrames.Start:
                OnStart(client);
                break;
            case AttachFrames.RemoveAfterExit:
                client.RemovesContainer = true;
                server.Send(client, AttachFrames.RemovalTaken, []);
                break;
            case AttachFrames.Stdin:
                if (config.Stdin && run is { InputTarget: not null } r && payload.Length > 0)
                    QueueInput(r, payload);
                break;
            case AttachFrames.CloseStdin:
                if (config.Stdin && run is { } target)
                {
                    if (target.Terminal is not null)
                        QueueInput(target, [0x04]); // a terminal has no separate end of input: VEOF, as a user's ^D
                    else if (target.StdinWriter is not null)
                    {
                        target.CloseStdinWhenWritten = true;
                        WriteInput(target);
                    }
                }
                break;
            case AttachFrames.Resize:
                if (run?.Terminal is { } pty && payload.Length >= 4)
                {
                    var rows = BinaryPrimitives.ReadUInt16LittleEndian(payload);
                    var columns = BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(2));
                    try
                    {
                        Libc.SetWindowSize(pty.Fd, rows, columns);
                    }
                    catch (SyscallException e)
                    {
                        log.Write($"resize: {e.Message}");
                    }
                }
                break;
            default:
                server.Send(client, AttachFrames.Error, Encoding.UTF8.GetBytes($"unknown attach message type {type}"));
                break;
        }
    }

    void OnStart(AttachedClient client)
    {
        var server = attach!;
        if (state == ContainerStates.Running && run is { } running)
        {
            AttachServer.SendInt(server, client, AttachFrames.Started, running.InitPid);
            return;
        }
        if (state != ContainerStates.Created || run is null)
        {
            server.Send(client, AttachFrames.Error, Encoding.UTF8.GetBytes($"the container is {state}, it cannot be started"));
            return;
        }
        try
        {
            StartContainer();
            AttachServer.SendInt(server, client, AttachFrames.Started, run.InitPid);
        }
        catch (Exception e) when (e is MonitorException or SyscallException or IOException)
        {
            var sentence = e is MonitorException ? e.Message : Moat.Oci.ErrorText.Of(e);
            log.Write($"start: {sentence}");
            server.Send(client, AttachFrames.Error, Encoding.UTF8.GetBytes(sentence));
        }
        generation++;
    }

    // ---- the container's stdio ----

    void ReadOutput(ContainerRun r, bool isStderr)
    {
        var fd = isStderr ? r.Stderr : r.Stdout;
        if (fd is null)
            return;
        var n = ReadSome(fd.Fd);
        if (n > 0)
            Output(isStderr ? LogFormat.Stderr : LogFormat.Stdout, readBuffer.AsSpan(0, n));
        else if (n == 0)
        {
            // End of file: nothing in the container holds this stream any more.
            fd.Dispose();
            if (isStderr)
                r.Stderr = null;
            else
                r.Stdout = null;
            generation++;
        }
    }

    void OnTerminal(ContainerRun r, short revents)
    {
        if ((revents & Libc.POLLOUT) != 0)
            WriteInput(r);
        if ((revents & (Libc.POLLIN | Libc.POLLHUP | Libc.POLLERR)) == 0 || r.Terminal is null)
            return;
        var n = ReadSome(r.Terminal.Fd);
        if (n > 0)
            Output(LogFormat.Stdout, readBuffer.AsSpan(0, n));
        else if (n == 0 || (revents & Libc.POLLHUP) != 0)
        {
            // EIO: the last holder of the pty's slave side closed it. Keep the master for the
            // window size and input until the init's exit; stop polling its hang-up.
            r.Terminal.Dispose();
            r.Terminal = null;
            generation++;
        }
    }

    /// <summary>One read: bytes read, 0 at end of file (EIO on a pty whose slave is closed counts as end), -1 when nothing is there now.</summary>
    int ReadSome(int fd)
    {
        fixed (byte* p = readBuffer)
        {
            while (true)
            {
                var n = Libc.read(fd, p, readBuffer.Length);
                if (n >= 0)
                    return (int)n;
                var errno = Errors.LastErrno;
                if (errno == Errors.EINTR)
                    continue;
                return errno == Errors.EAGAIN ? -1 : 0;
            }
        }
    }

    void DrainOutput(ContainerRun r)
    {
        for (var i = 0; i < 1024 && r.Stdout is not null && ReadSome(r.Stdout.Fd) is var n && n > 0; i++)
            Output(LogFormat.Stdout, readBuffer.AsSpan(0, n));
        for (var i = 0; i < 1024 && r.Stderr is not null && ReadSome(r.Stderr.Fd) is var n && n > 0; i++)
            Output(LogFormat.Stderr, readBuffer.AsSpan(0, n));
        for (var i = 0; i < 1024 && r.Terminal is not null && ReadSome(r.Terminal.Fd) is var n && n > 0; i++)
            Output(LogFormat.Stdout, readBuffer.AsSpan(0, n));
    }

    void Output(string stream, ReadOnlySpan<byte> data)
    {
        if (logWriter is not null)
        {
            try
            {
                logWriter.Write(stream, data, DateTimeOffset.UtcNow);
            }
            catch (Exception e) when (e is SyscallException or IOException)
            {
                log.Write($"container log: {Moat.Oci.ErrorText.Of(e)}");
            }
        }
        attach?.Broadcast(stream == LogFormat.Stderr ? AttachFrames.Stderr : AttachFrames.Stdout, data);
    }

    void QueueInput(ContainerRun r, byte[] data)
    {
        r.PendingInput.Enqueue(data);
        WriteInput(r);
    }

    /// <summary>Writes queued input as far as the container takes it now.</summary>
    void WriteInput(ContainerRun r)
    {
        var target = r.InputTarget;
        while (target is not null && r.PendingInput.TryPeek(out var data))
        {
            nint n;
            fixed (byte* p = data)
            {
                do
                    n = Libc.write(target.Fd, p + r.PendingInputOffset, data.Length - r.PendingInputOffset);
                while (n < 0 && Errors.LastErrno == Errors.EINTR);
            }
            if (n < 0)
            {
                if (Errors.LastErrno == Errors.EAGAIN)
                    return;
                // EPIPE: the container closed its stdin; input has nowhere to go.
                r.PendingInput.Clear();
                r.PendingInputOffset = 0;
                if (r.StdinWriter is not null)
                {
                    r.StdinWriter.Dispose();
                    r.StdinWriter = null;
                    generation++;
                }
                return;
            }
            r.PendingInputOffset += (int)n;
            if (r.PendingInputOffset == data.Length)
            {
                r.PendingInput.Dequeue();
                r.PendingInputOffset = 0;
            }
        }
        if (r.CloseStdinWhenWritten && r.PendingInput.Count == 0 && r.StdinWriter is not null)
        {
            r.StdinWriter.Dispose();
            r.StdinWriter = null;
            generation++;
        }
    }

    // ---- records ----

    void OnHealthChanged(string status) => Event("health_status", ("health_status", status));

    void WriteStatus() => TryWriteStatus(new MonitorStatus
    {
        State = state,
        MonitorPid = selfPid,
        MonitorStartTime = selfStart,
        Pid = run is { } r && state is ContainerStates.Created or ContainerStates.Running ? r.InitPid : 0,
        PidStartTime = run is { } s && state is ContainerStates.Created or ContainerStates.Running ? s.InitStartTime : 0,
        StartedAt = startedAt,
        RestartCount = restartCount,
        Error = finalError,
    });

    void TryWriteStatus(MonitorStatus status) => TryWrite(directory.File(ContainerFiles.Status), status);

    void TryWrite<T>(string path, T value) where T : class
    {
        try
        {
            // status.json and exit.json describe this run of processes: atomic, not fsynced (ProtocolFiles.Write).
            ProtocolFiles.Write(path, value, durable: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SyscallException)
        {
            log.Write($"cannot write {path}: {Moat.Oci.ErrorText.Of(e)}");
        }
    }

    void Event(string action, params (string Key, string Value)[] extra)
    {
        if (config.EventsPath is not { } journal)
            return;
        var attributes = new Dictionary<string, string>();
        if (config.Name is { } name)
            attributes["name"] = name;
        if (config.Image is { } image)
            attributes["image"] = image;
        foreach (var (key, value) in extra)
            attributes[key] = value;
        try
        {
            ProtocolFiles.AppendEvent(journal, new EngineEvent
            {
                Type = "container", Action = action, Id = config.Id, Time = DateTimeOffset.UtcNow, Attributes = attributes,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Write($"events journal {journal}: {Moat.Oci.ErrorText.Of(e)}");
        }
    }
}

/// <summary>The one line the engine waits for on descriptor 3 (<see cref="ContainerFiles.SyncDescriptor"/>), then its end.</summary>
public static class SyncReport
{
    static bool available;

    /// <summary>
    /// Called first: is descriptor 3 the engine's pipe? A monitor started by hand has none, and 3 may then
    /// be something this process opened itself, which must not receive the line.
    /// </summary>
    public static void Init()
    {
        try
        {
            available = new FileInfo($"/proc/self/fd/{ContainerFiles.SyncDescriptor}").LinkTarget is { } target
                && (target.StartsWith("pipe:", StringComparison.Ordinal) || target.StartsWith("socket:", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            available = false;
        }
    }

    public static void Pid(int pid) => Send(Encoding.UTF8.GetBytes($"{{\"pid\":{pid}}}\n"));

    public static void Error(string sentence)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("error", sentence);
            writer.WriteEndObject();
        }
        Send([.. buffer.WrittenSpan, (byte)'\n']);
    }

    static void Send(byte[] line)
    {
        if (!available)
            return;
        available = false;
        try
        {
            Libc.WriteAll(ContainerFiles.SyncDescriptor, line, "sync descriptor");
        }
        catch (SyscallException)
        {
            // The engine gave up waiting (EPIPE): the files say the rest.
        }
        Libc.close(ContainerFiles.SyncDescriptor);
    }
}
