using System.Text;
using System.Text.Json;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Runtime;
using Moat.Runtime.Seccomp;
using Moat.Runtime.State;
using Moat.Runtime.Init;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

/// <summary>state.json and seccomp cache entries through the hand-written codec.</summary>
public sealed class RuntimeJsonTests
{
    internal static CompiledSeccompFilter Filter(string? listener = null) => new()
    {
        Program = [1, 2, 3, 4, 5, 6, 7, 8],
        Flags = 9,
        EnosysStubLength = 1,
        ArchitectureTokens = [0xc000003e, 0x40000003],
        SkippedSyscalls = ["futex_waitv"],
        ListenerPath = listener,
        ListenerMetadata = listener is null ? null : "meta",
    };

    [Fact]
    public void RuntimeStateRoundTripsEveryField()
    {
        var state = new RuntimeState
        {
            Phase = RuntimeState.Phases.Created,
            Id = "c1",
            Pid = 42,
            PidStartTime = 1234567890123UL,
            Bundle = "/b",
            Rootfs = "/b/rootfs",
            Created = new DateTimeOffset(2026, 11, 22, 21, 0, 0, 123, TimeSpan.Zero),
            Owner = "root",
            Annotations = new() { ["a"] = "1", ["b.c"] = "2" },
            CgroupDirectories = ["/sys/fs/cgroup/pids/moat/c1", "/sys/fs/cgroup/unified/moat/c1"],
            CgroupCreated = true,
            CgroupPath = "/moat/c1",
            Config = DefaultSpec.Create(rootless: false, 0, 0),
        };

        var back = RuntimeJson.ReadState(RuntimeJson.Write(state));

        Assert.Equal(RuntimeJson.Write(state), RuntimeJson.Write(back));
        Assert.Equal(state.Created, back.Created);
        Assert.Equal(state.PidStartTime, back.PidStartTime);
        Assert.Equal(state.Annotations, back.Annotations);
        Assert.Equal(state.CgroupDirectories, back.CgroupDirectories);
        Assert.True(back.CgroupCreated);
    }

    [Fact]
    public void CacheEntryRoundTripsAndLeavesOutAbsentListener()
    {
        var keyBytes = Encoding.UTF8.GetBytes("key \"text\"\n{\"names\":[\"read\"]}");
        var bytes = RuntimeJson.WriteCacheEntry(keyBytes, "129312 638522590120000000 2.5.4 /usr/lib/libseccomp.so.2", Filter());
        Assert.DoesNotContain("listener", Encoding.UTF8.GetString(bytes));

        var (key, library, filter) = RuntimeJson.ReadCacheEntry(bytes);

        Assert.Equal(keyBytes, key);
        Assert.Equal("129312 638522590120000000 2.5.4 /usr/lib/libseccomp.so.2", library);
        Assert.Equal(Filter().Program, filter!.Program);
        Assert.Equal([0xc000003eU, 0x40000003U], filter.ArchitectureTokens);
        Assert.Null(filter.ListenerPath);
    }

    [Fact]
    public void UnknownPropertiesOfAnyShapeAreSkipped()
    {
        var state = RuntimeJson.ReadState("""{"future":{"a":[1,{"b":null}]},"id":"c1","more":[true,"x"],"pid":5,"last":null}"""u8);

        Assert.Equal("c1", state.Id);
        Assert.Equal(5, state.Pid);
    }

    static RuntimeState StateWithConfig() => new()
    {
        Phase = RuntimeState.Phases.Created,
        Id = "c1",
        Pid = 42,
        Bundle = "/b",
        CgroupDirectories = ["/sys/fs/cgroup/pids/moat/c1"],
        Config = Moat.Tests.Unit.Oci.KitchenSink.Create(),
    };

    [Fact]
    public void ADeferredConfigIsTheConfigAnEagerReadGives()
    {
        var bytes = RuntimeJson.Write(StateWithConfig());
        var deferred = RuntimeJson.ReadStateDeferringConfig(bytes, () => new InvalidOperationException("not broken"));

        Assert.NotNull(deferred.DeferredConfigJson);
        Assert.Equal(SpecJson.ToUtf8Bytes(RuntimeJson.ReadState(bytes).Config!), SpecJson.ToUtf8Bytes(deferred.Config!));
        Assert.Null(deferred.DeferredConfigJson);
    }

    [Fact]
    public void AnUnparsedConfigIsWrittenBackAsItWasRead()
    {
        var bytes = RuntimeJson.Write(StateWithConfig());
        var deferred = RuntimeJson.ReadStateDeferringConfig(bytes, () => new InvalidOperationException("not broken"));
        deferred.Pid = 43;

        var written = RuntimeJson.Write(deferred);

        Assert.NotNull(deferred.DeferredConfigJson);
        var expected = StateWithConfig();
        expected.Pid = 43;
        Assert.Equal(Encoding.UTF8.GetString(RuntimeJson.Write(expected)), Encoding.UTF8.GetString(written));
    }

    [Fact]
    public void ABrokenConfigFailsWhenUsedWithTheErrorOfTheWholeDocument()
    {
        var dir = Directory.CreateTempSubdirectory("moat-state-");
        try
        {
            const string json = "{\"id\":\"c1\",\"pid\":7,\n\"config\":{\"ociVersion\":\"1\",\n\"process\":{\"cwd\":null}}}";
            File.WriteAllText(Path.Combine(dir.FullName, ContainerDirectory.StateFile), json);

            // Reading succeeds: what start, state and kill use is fine.
            var state = ContainerDirectory.ReadState(dir.FullName)!;
            Assert.Equal(7, state.Pid);

            var error = Assert.Throws<RuntimeException>(() => state.Config);
            Assert.Equal($"{Path.Combine(dir.FullName, ContainerDirectory.StateFile)} is corrupt: invalid value at $.config.process.cwd (line 3): null is not allowed here", error.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void AConfigOfTheWrongTypeIsStillRefusedAtOnce()
    {
        var error = Assert.ThrowsAny<JsonException>(() =>
            RuntimeJson.ReadStateDeferringConfig(Encoding.UTF8.GetBytes("""{"config":"x"}"""), () => new InvalidOperationException()));
        Assert.Equal("invalid value at $.config (line 1): expected an object", error.Message);
    }

    [Theory]
    [InlineData("""{"pid":"5"}""", "invalid value at $.pid (line 1): expected a 32-bit signed integer")]
    [InlineData("""{"pid":5000000000}""", "invalid value at $.pid (line 1): expected a 32-bit signed integer")]
    [InlineData("""{"id":3}""", "invalid value at $.id (line 1): expected a string")]
    [InlineData("""{"cgroupCreated":"yes"}""", "invalid value at $.cgroupCreated (line 1): expected true or false")]
    [InlineData("""{"created":"yesterday"}""", "invalid value at $.created (line 1): expected an ISO 8601 date and time")]
    [InlineData("""{"cgroupDirectories":{}}""", "invalid value at $.cgroupDirectories (line 1): expected an array")]
    [InlineData("""[]""", "invalid value at $ (line 1): expected an object")]
    public void WrongValuesAreRefusedNamingTheProperty(string json, string message)
    {
        var error = Assert.ThrowsAny<JsonException>(() => RuntimeJson.ReadState(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("""{"id":"c1",""")]
    [InlineData("""{"id":"c1",}""")]
    [InlineData("")]
    public void BrokenDocumentsAreJsonErrors(string json) =>
        Assert.ThrowsAny<JsonException>(() => RuntimeJson.ReadState(Encoding.UTF8.GetBytes(json)));
}
