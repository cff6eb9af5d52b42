using System.Text;
using System.Text.Json;
using Moat.Engine.Store;

namespace Moat.Cli.Output;

/// <summary>docker's JSON for containers, written by hand (one writer, no reflection): `inspect` and `ps --format json`.</summary>
public static class ContainerJson
{
    /// <summary>ps --format json: podman's array of objects.</summary>
    public static string List(IReadOnlyList<ContainerRecord> containers) => Write(w =>
    {
        w.WriteStartArray();
        foreach (var c in containers)
        {
            w.WriteStartObject();
            w.WriteString("Id", c.Id);
            w.WriteStartArray("Names");
            w.WriteStringValue(c.Name);
            w.WriteEndArray();
            w.WriteString("Image", c.ImageName);
            w.WriteString("ImageID", c.ImageId);
            w.WriteStartArray("Command");
            foreach (var a in c.Settings.Args) w.WriteStringValue(a);
            w.WriteEndArray();
            w.WriteNumber("Created", c.Created.ToUnixTimeSeconds());
            w.WriteString("CreatedAt", c.Created.ToString("O"));
            w.WriteString("State", c.State);
            w.WriteString("Status", ContainerText.Status(c, DateTimeOffset.UtcNow));
            w.WriteNumber("Pid", c.Pid);
            w.WriteNumber("ExitCode", c.ExitCode);
            w.WriteNumber("RestartCount", c.RestartCount);
            if (c.Health is { } h) w.WriteString("Health", h);
            w.WriteStartObject("Labels");
            foreach (var (k, v) in c.Settings.Labels) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteStartArray("Ports");
            foreach (var p in c.Settings.Ports) w.WriteStringValue(p);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    /// <summary>inspect: docker's document (the fields people script against).</summary>
    public static string Inspect(IReadOnlyList<(ContainerRecord Record, string Directory)> containers) => Write(w =>
    {
        w.WriteStartArray();
        foreach (var (c, directory) in containers)
        {
            var s = c.Settings;
            w.WriteStartObject();
            w.WriteString("Id", c.Id);
            w.WriteString("Created", c.Created.ToString("O"));
            w.WriteString("Path", s.Args.FirstOrDefault() ?? "");
            w.WriteStartArray("Args");
            foreach (var a in s.Args.Skip(1)) w.WriteStringValue(a);
            w.WriteEndArray();
            w.WriteStartObject("State");
            w.WriteString("Status", c.State);
            w.WriteBoolean("Running", c.State is EngineStates.Running or EngineStates.Paused);
            w.WriteBoolean("Paused", c.State == EngineStates.Paused);
            w.WriteBoolean("Restarting", c.State == EngineStates.Restarting);
            w.WriteBoolean("OOMKilled", c.OomKilled);
            w.WriteBoolean("Dead", c.State == EngineStates.Dead);
            w.WriteNumber("Pid", c.Pid);
            w.WriteNumber("ExitCode", c.ExitCode);
            w.WriteString("Error", c.Error ?? "");
            w.WriteString("StartedAt", c.StartedAt?.ToString("O") ?? "0001-01-01T00:00:00Z");
            w.WriteString("FinishedAt", c.FinishedAt?.ToString("O") ?? "0001-01-01T00:00:00Z");
            w.WriteBoolean("MonitorLost", c.MonitorLost);
            if (s.Health is not null)
            {
                w.WriteStartObject("Health");
                w.WriteString("Status", c.Health ?? "starting");
                var record = Moat.Monitor.Protocol.ProtocolFiles.Read<Moat.Monitor.Protocol.HealthRecord>(Path.Combine(directory, Moat.Monitor.Protocol.ContainerFiles.Health));
                w.WriteNumber("FailingStreak", record?.FailingStreak ?? 0);
                w.WriteStartArray("Log");
                foreach (var probe in record?.Log ?? [])
                {
                    w.WriteStartObject();
                    w.WriteString("Start", probe.Start.ToString("O"));
                    w.WriteString("End", probe.End.ToString("O"));
                    w.WriteNumber("ExitCode", probe.ExitCode);
                    w.WriteString("Output", probe.Output);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteString("Image", c.ImageId);
            w.WriteString("ResolvConfPath", "");
            w.WriteString("HostnamePath", "");
            w.WriteString("LogPath", s.LogPath ?? "");
            w.WriteString("Name", "/" + c.Name);
            w.WriteNumber("RestartCount", c.RestartCount);
            w.WriteString("Driver", "overlay");
            w.WriteString("Platform", "linux");
            w.WriteStartObject("HostConfig");
            w.WriteStartObject("LogConfig");
            w.WriteString("Type", s.LogDriver);
            w.WriteEndObject();
            w.WriteString("NetworkMode", s.Network ?? "default");
            w.WriteStartObject("RestartPolicy");
            w.WriteString("Name", s.Restart.Name);
            w.WriteNumber("MaximumRetryCount", s.Restart.MaximumRetryCount);
            w.WriteEndObject();
            w.WriteBoolean("AutoRemove", s.AutoRemove);
            w.WriteBoolean("ReadonlyRootfs", s.ReadOnlyRootfs);
            w.WriteBoolean("Privileged", s.Privileged);
            w.WriteBoolean("Init", s.Init);
            w.WriteString("Runtime", c.Runtime);
            w.WriteString("Isolation", c.Isolation);
            w.WriteStartArray("Binds");
            foreach (var m in s.Mounts.Where(m => m.Type == "bind"))
                w.WriteStringValue($"{m.Source}:{m.Destination}{(m.ReadOnly ? ":ro" : "")}");
            w.WriteEndArray();
            foreach (var (k, v) in s.Resources) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteStartArray("Mounts");
            foreach (var m in s.Mounts)
            {
                w.WriteStartObject();
                w.WriteString("Type", m.Type);
                if (m.Name is not null) w.WriteString("Name", m.Name);
                w.WriteString("Source", m.Source ?? "");
                w.WriteString("Destination", m.Destination);
                w.WriteString("Mode", string.Join(',', m.Options));
                w.WriteBoolean("RW", !m.ReadOnly);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("Config");
            w.WriteString("Hostname", s.Hostname);
            w.WriteString("User", s.User ?? "");
            w.WriteBoolean("Tty", s.Tty);
            w.WriteBoolean("OpenStdin", s.Interactive);
            StringArray(w, "Env", s.Env);
            StringArray(w, "Cmd", s.Command);
            StringArray(w, "Entrypoint", s.Entrypoint);
            w.WriteString("Image", c.ImageName);
            w.WriteString("WorkingDir", s.WorkingDir);
            w.WriteStartObject("Labels");
            foreach (var (k, v) in s.Labels) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteString("StopSignal", s.StopSignal);
            w.WriteNumber("StopTimeout", s.StopTimeout);
            w.WriteStartObject("ExposedPorts");
            foreach (var p in s.ExposedPorts) { w.WriteStartObject(p); w.WriteEndObject(); }
            w.WriteEndObject();
            if (s.Health is { } health)
            {
                w.WriteStartObject("Healthcheck");
                StringArray(w, "Test", ["CMD", .. health.Command]);
                w.WriteNumber("Interval", health.Interval.Ticks * 100);
                w.WriteNumber("Timeout", health.Timeout.Ticks * 100);
                w.WriteNumber("StartPeriod", health.StartPeriod.Ticks * 100);
                w.WriteNumber("Retries", health.Retries);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            if (c.Isolation == "sandbox" || File.Exists(Path.Combine(directory, "sandbox-refusals.json")))
                SandboxRefusals(w, directory);
            w.WriteStartObject("NetworkSettings");
            w.WriteStartObject("Ports");
            foreach (var p in s.Ports) w.WriteNull(p);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    /// <summary>"Sandbox": the refusal counts the sandbox tier's supervisor keeps in the container's directory ({"refusals", "byCall"}).</summary>
    static void SandboxRefusals(Utf8JsonWriter w, string directory)
    {
        long total = 0;
        var byCall = new List<(string, long)>();
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "sandbox-refusals.json")));
            total = document.RootElement.GetProperty("refusals").GetInt64();
            if (document.RootElement.TryGetProperty("byCall", out var calls))
                foreach (var call in calls.EnumerateObject())
                    byCall.Add((call.Name, call.Value.GetInt64()));
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // No refusal yet (the file comes with the first), or it is unreadable: none to show.
        }
        w.WriteStartObject("Sandbox");
        w.WriteNumber("Refusals", total);
        w.WriteStartObject("RefusalsByCall");
        foreach (var (call, n) in byCall) w.WriteNumber(call, n);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    static void StringArray(Utf8JsonWriter w, string name, IEnumerable<string>? values)
    {
        if (values is null)
        {
            w.WriteNull(name);
            return;
        }
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = Moat.Oci.Json.JsonEscaping.Instance }))
            body(w);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
