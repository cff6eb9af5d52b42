using System.Globalization;
using System.Text.Json;
using static Moat.Oci.Json.JsonTokens;

namespace Moat.Monitor.Protocol;

/// <summary>
/// The protocol files every container's life reads and writes — monitor.json, status.json, exit.json and the
/// event lines — written and read by hand with Utf8JsonWriter and Utf8JsonReader. The serializer's run-time
/// metadata for them (each type's properties configured, its attributes searched by reflection for
/// polymorphism) was a quarter of the monitor's CPU and ~0.6 ms of every `moat run` (perf, 2026-12-03).
/// The documents are exactly what the source-generated serializer writes (camelCase, nulls left out,
/// declaration order, its date and time-span formats), so files of either kind read the same;
/// ProtocolCodecTests hold the two to that. Unknown properties are skipped, a missing required one fails.
/// </summary>
public static class ProtocolCodec
{
    public static bool Handles(Type type) =>
        type == typeof(MonitorConfig) || type == typeof(MonitorStatus) || type == typeof(ExitRecord) || type == typeof(EngineEvent);

    public static byte[] Serialize(object value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            switch (value)
            {
                case MonitorConfig config: Write(writer, config); break;
                case MonitorStatus status: Write(writer, status); break;
                case ExitRecord exit: Write(writer, exit); break;
                case EngineEvent engineEvent: Write(writer, engineEvent); break;
                default: throw new ArgumentException($"{value.GetType().Name} is not a type of this codec", nameof(value));
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The document as <paramref name="type"/> (one of <see cref="Handles"/>); a malformed one throws JsonException.</summary>
    public static object Deserialize(ReadOnlySpan<byte> json, Type type)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        ExpectFirst(ref reader, JsonTokenType.StartObject, $"the {type.Name} document");
        object result = type == typeof(MonitorConfig) ? ReadMonitorConfig(ref reader)
            : type == typeof(MonitorStatus) ? ReadMonitorStatus(ref reader)
            : type == typeof(ExitRecord) ? ReadExitRecord(ref reader)
            : type == typeof(EngineEvent) ? ReadEngineEvent(ref reader)
            : throw new ArgumentException($"{type.Name} is not a type of this codec", nameof(type));
        ExpectEnd(ref reader, $"the {type.Name} document");
        return result;
    }

    // ---- writing: properties in declaration order, as the serializer does ----

    static void Write(Utf8JsonWriter w, MonitorConfig c)
    {
        w.WriteStartObject();
        w.WriteString("id", c.Id);
        w.WriteString("runtime", c.Runtime);
        WriteStrings(w, "runtimeArgs", c.RuntimeArgs);
        w.WriteString("bundle", c.Bundle);
        w.WriteBoolean("terminal", c.Terminal);
        w.WriteBoolean("stdin", c.Stdin);
        WriteOptional(w, "logPath", c.LogPath);
        w.WriteString("logDriver", c.LogDriver);
        w.WriteNumber("logMaxSize", c.LogMaxSize);
        w.WriteNumber("logMaxFiles", c.LogMaxFiles);
        w.WriteStartObject("restart");
        w.WriteString("name", c.Restart.Name);
        w.WriteNumber("maximumRetryCount", c.Restart.MaximumRetryCount);
        w.WriteEndObject();
        if (c.Health is { } health)
        {
            w.WriteStartObject("health");
            WriteStrings(w, "command", health.Command);
            w.WriteString("interval", TimeSpanText(health.Interval));
            w.WriteString("timeout", TimeSpanText(health.Timeout));
            w.WriteString("startPeriod", TimeSpanText(health.StartPeriod));
            w.WriteNumber("retries", health.Retries);
            w.WriteEndObject();
        }
        if (c.ExitCommand is { } exitCommand)
            WriteStrings(w, "exitCommand", exitCommand);
        WriteOptional(w, "eventsPath", c.EventsPath);
        WriteOptional(w, "name", c.Name);
        WriteOptional(w, "image", c.Image);
        w.WriteEndObject();
    }

    static void Write(Utf8JsonWriter w, MonitorStatus s)
    {
        w.WriteStartObject();
        w.WriteString("state", s.State);
        w.WriteNumber("monitorPid", s.MonitorPid);
        w.WriteNumber("monitorStartTime", s.MonitorStartTime);
        w.WriteNumber("pid", s.Pid);
        w.WriteNumber("pidStartTime", s.PidStartTime);
        if (s.StartedAt is { } startedAt)
            w.WriteString("startedAt", startedAt);
        w.WriteNumber("restartCount", s.RestartCount);
        WriteOptional(w, "error", s.Error);
        w.WriteEndObject();
    }

    static void Write(Utf8JsonWriter w, ExitRecord e)
    {
        w.WriteStartObject();
        w.WriteNumber("exitCode", e.ExitCode);
        w.WriteNumber("signal", e.Signal);
        w.WriteString("finishedAt", e.FinishedAt);
        w.WriteBoolean("oomKilled", e.OomKilled);
        w.WriteEndObject();
    }

    static void Write(Utf8JsonWriter w, EngineEvent e)
    {
        w.WriteStartObject();
        w.WriteString("type", e.Type);
        w.WriteString("action", e.Action);
        w.WriteString("id", e.Id);
        w.WriteString("time", e.Time);
        if (e.Attributes is { } attributes)
        {
            w.WriteStartObject("attributes");
            foreach (var (key, value) in attributes)
                w.WriteString(key, value);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
            w.WriteString(name, value);
    }

    static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
            w.WriteStringValue(value);
        w.WriteEndArray();
    }

    /// <summary>The serializer's form: "c", [-][d.]hh:mm:ss[.fffffff].</summary>
    static string TimeSpanText(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);

    // ---- reading: every property set, absent ones to null or 0, as the serializer does ----

    static MonitorConfig ReadMonitorConfig(ref Utf8JsonReader r)
    {
        string? id = null, runtime = null, bundle = null, logPath = null, logDriver = null, eventsPath = null, name = null, image = null;
        List<string>? runtimeArgs = null, exitCommand = null;
        bool terminal = false, stdin = false;
        long logMaxSize = 0;
        int logMaxFiles = 0;
        RestartPolicy? restart = null;
        HealthCheck? health = null;
        while (NextProperty(ref r, out var property))
        {
            switch (property)
            {
                case "id": id = String(ref r); break;
                case "runtime": runtime = String(ref r); break;
                case "runtimeArgs": runtimeArgs = Strings(ref r); break;
                case "bundle": bundle = String(ref r); break;
                case "terminal": terminal = Boolean(ref r); break;
                case "stdin": stdin = Boolean(ref r); break;
                case "logPath": logPath = String(ref r); break;
                case "logDriver": logDriver = String(ref r); break;
                case "logMaxSize": logMaxSize = Int64(ref r); break;
                case "logMaxFiles": logMaxFiles = Int32(ref r); break;
                case "restart": restart = ReadRestartPolicy(ref r); break;
                case "health": health = ReadHealthCheck(ref r); break;
                case "exitCommand": exitCommand = Strings(ref r); break;
                case "eventsPath": eventsPath = String(ref r); break;
                case "name": name = String(ref r); break;
                case "image": image = String(ref r); break;
                default: r.Skip(); break;
            }
        }
        return new MonitorConfig
        {
            Id = Required(id, "id", nameof(MonitorConfig)),
            Runtime = Required(runtime, "runtime", nameof(MonitorConfig)),
            RuntimeArgs = runtimeArgs!,
            Bundle = Required(bundle, "bundle", nameof(MonitorConfig)),
            Terminal = terminal,
            Stdin = stdin,
            LogPath = logPath,
            LogDriver = logDriver!,
            LogMaxSize = logMaxSize,
            LogMaxFiles = logMaxFiles,
            Restart = restart!,
            Health = health,
            ExitCommand = exitCommand,
            EventsPath = eventsPath,
            Name = name,
            Image = image,
        };
    }

    static RestartPolicy? ReadRestartPolicy(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null)
            return null;
        Expect(ref r, JsonTokenType.StartObject, nameof(RestartPolicy));
        string? name = null;
        var retries = 0;
        while (NextProperty(ref r, out var property))
        {
            switch (property)
            {
                case "name": name = String(ref r); break;
                case "maximumRetryCount": retries = Int32(ref r); break;
                default: r.Skip(); break;
            }
        }
        return new RestartPolicy { Name = name!, MaximumRetryCount = retries };
    }

    static HealthCheck? ReadHealthCheck(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Null)
            return null;
        Expect(ref r, JsonTokenType.StartObject, nameof(HealthCheck));
        List<string>? command = null;
        TimeSpan interval = default, timeout = default, startPeriod = default;
        var retries = 0;
        while (NextProperty(ref r, out var property))
        {
            switch (property)
            {
                case "command": command = Strings(ref r); break;
                case "interval": interval = TimeSpanValue(ref r); break;
                case "timeout": timeout = TimeSpanValue(ref r); break;
                case "startPeriod": startPeriod = TimeSpanValue(ref r); break;
                case "retries": retries = Int32(ref r); break;
                default: r.Skip(); break;
            }
        }
        return new HealthCheck
        {
            Command = Required(command, "command", nameof(HealthCheck)),
            Interval = interval,
            Timeout = timeout,
            StartPeriod = startPeriod,
            Retries = retries,
        };
    }

    static MonitorStatus ReadMonitorStatus(ref Utf8JsonReader r)
    {
        string? state = null, error = null;
        int monitorPid = 0, pid = 0, restartCount = 0;
        ulong monitorStartTime = 0, pidStartTime = 0;
        DateTimeOffset? startedAt = null;
        while (NextProperty(ref r, out var property))
        {
            switch (property)
            {
                case "state": state = String(ref r); break;
                case "monitorPid": monitorPid = Int32(ref r); break;
                case "monitorStartTime": monitorStartTime = UInt64(ref r); break;
                case "pid": pid = Int32(ref r); break;
                case "pidStartTime": pidStartTime = UInt64(ref r); break;
                case "startedAt": startedAt = NullableTime(ref r); break;
                case "restartCount": restartCount = Int32(ref r); break;
                case "error": error = String(ref r); break;
                default: r.Skip(); break;
            }
        }
        return new MonitorStatus
        {
            State = Required(state, "state", nameof(MonitorStatus)),
            MonitorPid = monitorPid,
            MonitorStartTime = monitorStartTime,
            Pid = pid,
            PidStartTime = pidStartTime,
            StartedAt = startedAt,
            RestartCount = restartCount,
            Error = error,
        };
    }

    static ExitRecord ReadExitRecord(ref Utf8JsonReader r)
    {
        int? exitCode = null;
        var signal = 0;
        DateTimeOffset? finishedAt = null;
        var oomKilled = false;
        while (NextProperty(ref r, out var property))
        {
            switch (property)
            {
                case "exitCode": exitCode = Int32(ref r); break;
                case "signal": signal = Int32(ref r); break;
                case "finishedAt": finishedAt = Time(ref r); break;
                case "oomKilled": oomKilled = Boolean(ref r); break;
                default: r.Skip(); break;
            }
        }
        return new ExitRecord
        {
            ExitCode = exitCode ?? throw Missing("exitCode", nameof(ExitRecord)),
            Signal = signal,
            FinishedAt = finishedAt ?? throw Missing("finishedAt", nameof(ExitRecord)),
            OomKilled = oomKilled,
        };
    }

    static EngineEvent ReadEngineEvent(ref Utf8JsonReader r)
    {
        string? type = null, action = null, id = null;
        DateTimeOffset? time = null;
        Dictionary<string, string>? attributes = null;
        while (NextProperty(ref r, out var property))
        {
            switch (property)
            {
                case "type": type = String(ref r); break;
                case "action": action = String(ref r); break;
                case "id": id = String(ref r); break;
                case "time": time = Time(ref r); break;
                case "attributes": attributes = StringMap(ref r); break;
                default: r.Skip(); break;
            }
        }
        return new EngineEvent
        {
            Type = Required(type, "type", nameof(EngineEvent)),
            Action = Required(action, "action", nameof(EngineEvent)),
            Id = Required(id, "id", nameof(EngineEvent)),
            Time = time ?? throw Missing("time", nameof(EngineEvent)),
            Attributes = attributes,
        };
    }

    // ---- values ----

    static TimeSpan TimeSpanValue(ref Utf8JsonReader r) =>
        r.TokenType == JsonTokenType.String && TimeSpan.TryParseExact(r.GetString(), "c", CultureInfo.InvariantCulture, out var value)
            ? value : throw new JsonException($"expected a time span ([-][d.]hh:mm:ss[.fffffff]), found {r.TokenType}");

    static T Required<T>(T? value, string property, string type) where T : class => value ?? throw Missing(property, type);

    static JsonException Missing(string property, string type) => new($"{type} is missing its required property '{property}'");
}
