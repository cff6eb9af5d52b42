using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Moat.Monitor.Protocol;

namespace Moat.Tests.Monitor;

/// <summary>
/// One container under a real bin/moat-monitor, started as the engine starts it: detached in a new
/// session, stdio /dev/null, descriptor 3 a pipe the test reads the sync line from. Its directory, bundle
/// (config.json over the shared busybox rootfs) and runtime state are private to it; dispose kills the
/// monitor, force-deletes the container through the runtime and removes every file, also after a failure.
/// </summary>
public sealed class MonitoredContainer : IDisposable
{
    static int counter;

    /// <param name="directoryName">The container directory's name (a long one makes socket paths too long for sun_path).</param>
    public MonitoredContainer(string[] args, Func<MonitorConfig, MonitorConfig>? configure = null, Action<JsonNode>? editSpec = null, string directoryName = "c")
    {
        Paths.RequireRoot();
        var n = Interlocked.Increment(ref counter);
        Id = $"mon-{Environment.ProcessId}-{n}";
        Root = Path.Combine(Path.GetTempPath(), $"moat-monitor-test-{Environment.ProcessId}-{n}");
        System.IO.Directory.CreateDirectory(Root);
        Directory = Path.Combine(Root, directoryName);
        System.IO.Directory.CreateDirectory(Directory);
        RuntimeRoot = $"/run/moat-mon-{Environment.ProcessId}-{n}";
        var bundle = Path.Combine(Directory, ContainerFiles.Bundle);
        System.IO.Directory.CreateDirectory(bundle);
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(SharedBundle.Path, "config.json")))!;
        spec["root"]!["path"] = Path.Combine(SharedBundle.Path, "rootfs");
        spec["process"]!["args"] = new JsonArray(args.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray());
        editSpec?.Invoke(spec);
        File.WriteAllText(Path.Combine(bundle, "config.json"), spec.ToJsonString());
        EventsPath = Path.Combine(Root, "events.jsonl");
        var config = new MonitorConfig
        {
            Id = Id,
            Runtime = Paths.Runtime,
            RuntimeArgs = ["--root", RuntimeRoot],
            Bundle = bundle,
            LogPath = Path.Combine(Directory, ContainerFiles.ContainerLog),
            EventsPath = EventsPath,
            Name = $"test-{n}",
            Image = "busybox",
        };
        Config = configure?.Invoke(config) ?? config;
        ProtocolFiles.Write(Path.Combine(Directory, ContainerFiles.MonitorConfig), Config);
    }

    public string Id { get; }
    public string Root { get; }
    public string Directory { get; }
    public string RuntimeRoot { get; }
    public string EventsPath { get; }
    public MonitorConfig Config { get; }
    public string LogPath => Config.LogPath!;
    /// <summary>What the monitor said on descriptor 3.</summary>
    public string SyncLine { get; private set; } = "";

    public MonitorStatus? Status => ProtocolFiles.Read<MonitorStatus>(Path.Combine(Directory, ContainerFiles.Status));
    public ExitRecord? Exit => ProtocolFiles.Read<ExitRecord>(Path.Combine(Directory, ContainerFiles.Exit));
    public HealthRecord? Health => ProtocolFiles.Read<HealthRecord>(Path.Combine(Directory, ContainerFiles.Health));
    public string MonitorLog => File.Exists(Path.Combine(Directory, ContainerFiles.MonitorLog)) ? File.ReadAllText(Path.Combine(Directory, ContainerFiles.MonitorLog)) : "";

    /// <summary>Starts the monitor and returns the pid it reported (the container is created); throws with its error otherwise.</summary>
    public int Create()
    {
        var line = StartMonitor();
        using var document = JsonDocument.Parse(line);
        if (document.RootElement.TryGetProperty("pid", out var pid))
            return pid.GetInt32();
        throw new Xunit.Sdk.XunitException($"the monitor failed: {line}\nmonitor.log: {MonitorLog}");
    }

    /// <summary>Starts the monitor as the engine does and returns its sync line.</summary>
    public string StartMonitor()
    {
        // setsid -f: a new session, the monitor not the test's child; 3>&1 makes descriptor 3 the pipe read here.
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec setsid -f \"$0\" \"$1\" 3>&1 >/dev/null 2>&1 </dev/null");
        start.ArgumentList.Add(Paths.Monitor);
        start.ArgumentList.Add(Directory);
        using var process = Process.Start(start)!;
        var reading = process.StandardOutput.ReadToEndAsync();
        if (!reading.Wait(TimeSpan.FromSeconds(60)))
            throw new TimeoutException($"the monitor reported nothing on descriptor 3\nmonitor.log: {MonitorLog}");
        process.WaitForExit();
        SyncLine = reading.Result.Trim();
        return SyncLine;
    }

    public AttachClient Attach() => AttachClient.Connect(Directory);

    /// <summary>Connects, sends Start, and checks the answer is Started; the client stays attached.</summary>
    public AttachClient AttachAndStart() => Start(Attach());

    /// <summary>Attaches as an attached `run --rm` does: claims the removal (RemovalTaken), then starts.</summary>
    public AttachClient AttachClaimingRemovalAndStart()
    {
        var client = Attach();
        client.Send(AttachFrames.RemoveAfterExit);
        Assert.Equal(AttachFrames.RemovalTaken, client.Receive(TimeSpan.FromSeconds(30))!.Value.Type);
        return Start(client);
    }

    AttachClient Start(AttachClient client)
    {
        client.Send(AttachFrames.Start);
        var answer = client.Receive(TimeSpan.FromSeconds(30)) ?? throw new Xunit.Sdk.XunitException("the monitor closed the attach connection");
        if (answer.Type != AttachFrames.Started)
            throw new Xunit.Sdk.XunitException($"start: {System.Text.Encoding.UTF8.GetString(answer.Payload)}\nmonitor.log: {MonitorLog}");
        return client;
    }

    /// <summary>Reads messages until Exited: the output and the exit code.</summary>
    public static (string Stdout, string Stderr, int ExitCode) ReadUntilExit(AttachClient client, TimeSpan? timeout = null)
    {
        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        while (client.Receive(timeout ?? TimeSpan.FromSeconds(60)) is { } message)
        {
            switch (message.Type)
            {
                case AttachFrames.Stdout: stdout.Append(System.Text.Encoding.UTF8.GetString(message.Payload)); break;
                case AttachFrames.Stderr: stderr.Append(System.Text.Encoding.UTF8.GetString(message.Payload)); break;
                case AttachFrames.Exited: return (stdout.ToString(), stderr.ToString(), AttachClient.Number(message.Payload));
            }
        }
        throw new Xunit.Sdk.XunitException($"the connection closed before Exited; output so far: {stdout}{stderr}");
    }

    /// <summary>Waits until the monitor has exited (its status says exited and its pid is gone).</summary>
    public MonitorStatus WaitForMonitorExit(TimeSpan? timeout = null)
    {
        MonitorStatus? last = null;
        Wait.Until(() => (last = Status) is { State: ContainerStates.Exited } s && !Alive(s.MonitorPid, s.MonitorStartTime),
            timeout ?? TimeSpan.FromSeconds(60), () => $"the monitor did not finish; status {last}\nmonitor.log: {MonitorLog}");
        return last!;
    }

    public static bool Alive(int pid, ulong startTime)
    {
        if (pid <= 0)
            return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return ulong.Parse(fields[19]) == startTime && fields[0] != "Z";
        }
        catch (IOException)
        {
            return false;
        }
    }

    public IEnumerable<EngineEvent> Events() => File.Exists(EventsPath)
        ? File.ReadAllLines(EventsPath).Where(l => l.Length > 0).Select(l => ProtocolFiles.ParseEvent(System.Text.Encoding.UTF8.GetBytes(l))!)
        : [];

    public Tool.Result RuntimeCommand(params string[] args) => Tool.Run(Paths.Runtime, ["--root", RuntimeRoot, .. args]);

    /// <summary>The runtime's status for the container ("running", "stopped"...), or null when it has none.</summary>
    public string? RuntimeStatus()
    {
        var result = RuntimeCommand("state", Id);
        if (result.ExitCode != 0)
            return null;
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.GetProperty("status").GetString();
    }

    public void Dispose()
    {
        try
        {
            if (Status is { } status && Alive(status.MonitorPid, status.MonitorStartTime))
                Process.GetProcessById(status.MonitorPid).Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
        }
        RuntimeCommand("delete", "--force", Id);
        try
        {
            // The runtime keeps a cache (compiled seccomp filters) beside its state root.
            foreach (var dir in new[] { RuntimeRoot, RuntimeRoot + ".cache" })
                if (System.IO.Directory.Exists(dir))
                    System.IO.Directory.Delete(dir, recursive: true);
            System.IO.Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A container the runtime could not delete keeps its state: the test has failed already.
        }
    }
}
