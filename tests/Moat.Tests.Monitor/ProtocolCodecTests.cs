using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Moat.Monitor.Protocol;
using Xunit;

namespace Moat.Tests.Monitor;

/// <summary>The serializer the protocol files were written with before ProtocolCodec, with the same options: the reference.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MonitorConfig))]
[JsonSerializable(typeof(MonitorStatus))]
[JsonSerializable(typeof(ExitRecord))]
[JsonSerializable(typeof(EngineEvent))]
internal sealed partial class ReferenceProtocolJsonContext : JsonSerializerContext;

/// <summary>
/// ProtocolCodec against the source-generated serializer: the same bytes for the same document, and the same
/// document read back (so files written by a moat of either kind read the same), with its errors.
/// </summary>
public sealed class ProtocolCodecTests
{
    static readonly DateTimeOffset When = new(2026, 12, 3, 9, 51, 12, 345, TimeSpan.Zero);

    public static TheoryData<object> Documents() => new()
    {
        new MonitorConfig { Id = new string('a', 64), Runtime = "/usr/bin/moat-runtime", Bundle = "/var/lib/moat/containers/x/bundle" },
        new MonitorConfig
        {
            Id = new string('b', 64), Runtime = "/opt/runc", RuntimeArgs = ["--root", "/run/x", "--isolation", "sandbox"],
            Bundle = "/b", Terminal = true, Stdin = true, LogPath = "/var/log/c \"quoted\" <tag> & ü.log", LogDriver = LogDrivers.JsonFile,
            LogMaxSize = 10_485_760, LogMaxFiles = 3, Restart = new RestartPolicy { Name = RestartPolicies.OnFailure, MaximumRetryCount = 5 },
            Health = new HealthCheck
            {
                Command = ["/bin/sh", "-c", "wget -q -O- http://localhost/ || exit 1"], Interval = TimeSpan.FromSeconds(5),
                Timeout = TimeSpan.FromMilliseconds(1500), StartPeriod = new TimeSpan(1, 2, 3, 4, 5), Retries = 7,
            },
            ExitCommand = ["/usr/bin/moat", "--root", "/r", "container", "cleanup", "x"], EventsPath = "/r/events.jsonl", Name = "web-1", Image = "docker.io/library/nginx:latest",
        },
        new MonitorConfig { Id = "c", Runtime = "r", Bundle = "b", Health = new HealthCheck { Command = ["true"] } },
        new MonitorStatus { State = ContainerStates.Created, MonitorPid = 42, MonitorStartTime = 123456789012 },
        new MonitorStatus
        {
            State = ContainerStates.Running, MonitorPid = 42, MonitorStartTime = ulong.MaxValue, Pid = 4711, PidStartTime = 99, StartedAt = When,
            RestartCount = 2, Error = "moat: cannot start: \u0001 \t",
        },
        new MonitorStatus { State = ContainerStates.Exited, StartedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(-7)).AddTicks(1) },
        new ExitRecord { ExitCode = 137, Signal = 9, FinishedAt = When, OomKilled = true },
        new ExitRecord { ExitCode = 0, FinishedAt = When.AddTicks(1234567) },
        new EngineEvent { Type = "container", Action = "die", Id = new string('d', 64), Time = When },
        new EngineEvent
        {
            Type = "container", Action = "health_status: unhealthy", Id = "e", Time = When.ToOffset(TimeSpan.FromHours(5.5)),
            Attributes = new Dictionary<string, string> { ["name"] = "web", ["exitCode"] = "1", ["image"] = "ü/<x>&'y'+z" },
        },
    };

    static byte[] Reference(object value) => JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), ReferenceProtocolJsonContext.Default);

    [Theory]
    [MemberData(nameof(Documents))]
    public void WritesWhatTheSerializerWrites(object document) =>
        Assert.Equal(Encoding.UTF8.GetString(Reference(document)), Encoding.UTF8.GetString(ProtocolCodec.Serialize(document)));

    [Theory]
    [MemberData(nameof(Documents))]
    public void ReadsWhatTheSerializerWroteAsTheSerializerReadsIt(object document)
    {
        var json = Reference(document);
        var bySerializer = JsonSerializer.Deserialize(json, document.GetType(), ReferenceProtocolJsonContext.Default)!;
        var byCodec = ProtocolCodec.Deserialize(json, document.GetType());
        Assert.Equal(Encoding.UTF8.GetString(Reference(bySerializer)), Encoding.UTF8.GetString(Reference(byCodec)));
    }

    /// <summary>Absent properties read as the serializer reads them (the getters' defaults), unknown ones are skipped.</summary>
    [Theory]
    [InlineData(typeof(MonitorConfig), """{"id":"x","runtime":"r","bundle":"b","future":{"a":[1,{"b":null}]},"health":{"command":["c"],"later":true}}""")]
    [InlineData(typeof(MonitorConfig), """{"id":"x","runtime":"r","bundle":"b","runtimeArgs":null,"restart":null,"logDriver":null,"health":null}""")]
    [InlineData(typeof(MonitorConfig), """{"id":"x","runtime":"r","bundle":"b","restart":{"name":"always"}}""")]
    [InlineData(typeof(MonitorStatus), """{"state":"running","startedAt":null,"extra":"ignored"}""")]
    [InlineData(typeof(ExitRecord), """{"exitCode":1,"finishedAt":"2026-12-03T09:51:12Z"}""")]
    [InlineData(typeof(EngineEvent), """{"type":"image","action":"pull","id":"i","time":"2026-12-03T09:51:12.5+01:00","attributes":null}""")]
    public void PartialAndNewerDocumentsReadAsTheSerializerReadsThem(Type type, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var bySerializer = JsonSerializer.Deserialize(bytes, type, ReferenceProtocolJsonContext.Default)!;
        var byCodec = ProtocolCodec.Deserialize(bytes, type);
        Assert.Equal(Encoding.UTF8.GetString(Reference(bySerializer)), Encoding.UTF8.GetString(Reference(byCodec)));
    }

    [Theory]
    [InlineData(typeof(MonitorConfig), """{"runtime":"r","bundle":"b"}""")]
    [InlineData(typeof(MonitorStatus), """{"pid":1}""")]
    [InlineData(typeof(ExitRecord), """{"finishedAt":"2026-12-03T09:51:12Z"}""")]
    [InlineData(typeof(ExitRecord), """{"exitCode":"1","finishedAt":"2026-12-03T09:51:12Z"}""")]
    [InlineData(typeof(EngineEvent), """{"type":"container","action":"die","id":"x","time":"yesterday"}""")]
    [InlineData(typeof(MonitorConfig), """{"id":"x","runtime":"r","bundle":"b","health":{"command":["c"],"interval":"5s"}}""")]
    [InlineData(typeof(MonitorStatus), """["state"]""")]
    [InlineData(typeof(MonitorStatus), """{"state":"running"} {}""")]
    [InlineData(typeof(MonitorStatus), """{"state":"running",""")]
    [InlineData(typeof(MonitorStatus), "")]
    public void MalformedOrIncompleteDocumentsAreRefused(Type type, string json) =>
        Assert.ThrowsAny<JsonException>(() => ProtocolCodec.Deserialize(Encoding.UTF8.GetBytes(json), type));

    /// <summary>The files go through the codec: a status written by ProtocolFiles is the serializer's document.</summary>
    [Fact]
    public void ProtocolFilesWriteAndReadThroughTheCodec()
    {
        var dir = Directory.CreateTempSubdirectory("moat-protocol-");
        try
        {
            var path = Path.Combine(dir.FullName, ContainerFiles.Status);
            var status = new MonitorStatus { State = ContainerStates.Running, MonitorPid = 7, Pid = 8, StartedAt = When };
            ProtocolFiles.Write(path, status, durable: false);
            Assert.Equal(Encoding.UTF8.GetString(Reference(status)), File.ReadAllText(path));
            Assert.Equal(status, ProtocolFiles.Read<MonitorStatus>(path));
            File.WriteAllText(path, "{\"state\":");
            Assert.Throws<InvalidDataException>(() => ProtocolFiles.Read<MonitorStatus>(path));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
