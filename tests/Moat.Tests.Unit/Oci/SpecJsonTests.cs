using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Runtime.State;
using Xunit;

namespace Moat.Tests.Unit.Oci;

/// <summary>
/// The hand-written codec against the source-generated serializer it replaced (<see cref="ReferenceJsonContext"/>):
/// same model read, same bytes written, same error messages.
/// </summary>
public class SpecJsonTests
{
    private static string ReferenceCompact(Spec spec) => JsonSerializer.Serialize(spec, ReferenceJsonContext.Default.Spec);

    private static string ReferenceIndented(Spec spec) => JsonSerializer.Serialize(spec, ReferenceJsonContext.Indented.Spec);

    private static Spec Sample(string name) => name switch
    {
        "full" => JsonSerializer.Deserialize(SampleConfigs.Full, ReferenceJsonContext.Default.Spec)!,
        "default" => DefaultSpec.Create(rootless: false),
        "rootless" => DefaultSpec.Create(rootless: true, 1000, 1000),
        "kitchen-sink" => KitchenSink.Create(),
        "empty" => new Spec(),
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string> Samples => new() { "full", "default", "rootless", "kitchen-sink", "empty" };

    [Theory]
    [MemberData(nameof(Samples))]
    public void ReaderBuildsTheSameModelAsTheSerializer(string sample)
    {
        foreach (var json in new[] { ReferenceIndented(Sample(sample)), ReferenceCompact(Sample(sample)) })
        {
            var bytes = Encoding.UTF8.GetBytes(json);
            var expected = ReferenceCompact(JsonSerializer.Deserialize(bytes, ReferenceJsonContext.Default.Spec)!);

            Assert.Equal(expected, ReferenceCompact(SpecJson.ReadSpec(bytes)));
            Assert.Equal(expected, ReferenceCompact(SpecLoader.Parse(bytes)));
            Assert.Equal(expected, ReferenceCompact(JsonSerializer.Deserialize(bytes, ConverterJsonContext.Default.Spec)!));
        }
    }

    [Fact]
    public void ReaderBuildsTheSameModelForTheSampleConfigText()
    {
        var bytes = Encoding.UTF8.GetBytes(SampleConfigs.Full);

        Assert.Equal(
            ReferenceCompact(JsonSerializer.Deserialize(bytes, ReferenceJsonContext.Default.Spec)!),
            ReferenceCompact(SpecJson.ReadSpec(bytes)));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void WriterProducesTheSerializersBytes(string sample)
    {
        var spec = Sample(sample);

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(spec, ReferenceJsonContext.Default.Spec), SpecJson.ToUtf8Bytes(spec));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(spec, ReferenceJsonContext.Indented.Spec), SpecJson.ToUtf8Bytes(spec, indented: true));
        Assert.Equal(ReferenceCompact(spec), OciJson.Serialize(spec));
        Assert.Equal(ReferenceIndented(spec), OciJson.SerializeIndented(spec));
        // Through the converters, as any context embedding a Spec writes it.
        Assert.Equal(ReferenceCompact(spec), JsonSerializer.Serialize(spec, ConverterJsonContext.Default.Spec));
        Assert.Equal(ReferenceIndented(spec), OciJson.SerializeIndented(spec));
    }

    [Fact]
    public void WriterLeavesOutNullsWhereTheModelSaysNonNullableAndWritesNullElements()
    {
        var spec = new Spec
        {
            OciVersion = null!,
            Process = new Process { User = null!, Cwd = null!, Args = ["a", null!], Rlimits = [null!] },
            Root = new Root { Path = null! },
            Annotations = new() { ["k"] = null! },
            Linux = new Linux
            {
                TimeOffsets = new() { ["monotonic"] = null! },
                Seccomp = new LinuxSeccomp { DefaultAction = null!, Syscalls = [new LinuxSyscall { Names = null!, Action = null! }] },
            },
        };

        Assert.Equal(ReferenceCompact(spec), OciJson.Serialize(spec));
        Assert.Equal(ReferenceIndented(spec), OciJson.SerializeIndented(spec));
    }

    [Fact]
    public void ProcessAndResourcesReadAndWriteStandaloneLikeTheSerializer()
    {
        var process = KitchenSink.CreateProcess();
        var processJson = JsonSerializer.SerializeToUtf8Bytes(process, ReferenceJsonContext.Indented.Process);
        var resources = KitchenSink.CreateResources();
        var resourcesJson = JsonSerializer.SerializeToUtf8Bytes(resources, ReferenceJsonContext.Indented.LinuxResources);

        Assert.Equal(processJson, Write(w => SpecJson.Write(w, process), indented: true));
        Assert.Equal(resourcesJson, Write(w => SpecJson.Write(w, resources), indented: true));
        Assert.Equal(JsonSerializer.Serialize(process, ReferenceJsonContext.Default.Process), JsonSerializer.Serialize(process, ConverterJsonContext.Default.Process));
        Assert.Equal(
            JsonSerializer.Serialize(resources, ReferenceJsonContext.Default.LinuxResources),
            JsonSerializer.Serialize(resources, ConverterJsonContext.Default.LinuxResources));

        var expectedProcess = JsonSerializer.Serialize(JsonSerializer.Deserialize(processJson, ReferenceJsonContext.Default.Process)!, ReferenceJsonContext.Default.Process);
        Assert.Equal(expectedProcess, JsonSerializer.Serialize(SpecJson.ReadProcess(processJson), ReferenceJsonContext.Default.Process));
        Assert.Equal(expectedProcess, JsonSerializer.Serialize(JsonSerializer.Deserialize(processJson, ConverterJsonContext.Default.Process)!, ReferenceJsonContext.Default.Process));
        var expectedResources = JsonSerializer.Serialize(JsonSerializer.Deserialize(resourcesJson, ReferenceJsonContext.Default.LinuxResources)!, ReferenceJsonContext.Default.LinuxResources);
        Assert.Equal(expectedResources, JsonSerializer.Serialize(SpecJson.ReadLinuxResources(resourcesJson), ReferenceJsonContext.Default.LinuxResources));
        Assert.Equal(expectedResources, JsonSerializer.Serialize(JsonSerializer.Deserialize(resourcesJson, ConverterJsonContext.Default.LinuxResources)!, ReferenceJsonContext.Default.LinuxResources));
    }

    private static byte[] Write(Action<Utf8JsonWriter> write, bool indented)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, SpecJson.WriterOptions(indented)))
        {
            write(writer);
        }
        return stream.ToArray();
    }

    [Fact]
    public void KitchenSinkSetsEveryPropertyOfEveryType()
    {
        var unset = new List<string>();
        var seen = new HashSet<Type>();
        Walk(KitchenSink.Create(), "$", unset, seen);

        Assert.True(unset.Count == 0, "not set: " + string.Join(", ", unset));
        // Every model type reachable from Spec was visited: a new type must get kitchen-sink values too.
        var reachable = new HashSet<Type>();
        Reach(typeof(Spec), reachable);
        Assert.Equal(reachable.Select(t => t.Name).Order(), seen.Select(t => t.Name).Order());
        Assert.Equal(36, reachable.Count);
    }

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "tests run on the JIT with every model type present")]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "tests run on the JIT with every model type present")]
    private static void Reach(Type type, HashSet<Type> reachable)
    {
        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                Reach(argument, reachable);
            }
            return;
        }
        if (type.Namespace != typeof(Spec).Namespace || !reachable.Add(type))
        {
            return;
        }
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            Reach(property.PropertyType, reachable);
        }
    }

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "tests run on the JIT with every model type present")]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "tests run on the JIT with every model type present")]
    private static void Walk(object value, string path, List<string> unset, HashSet<Type> seen)
    {
        var type = value.GetType();
        if (type.Namespace != typeof(Spec).Namespace)
        {
            return;
        }
        seen.Add(type);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var child = property.GetValue(value);
            var childPath = $"{path}.{property.Name}";
            if (child is null || (child.GetType().IsValueType && child.Equals(Activator.CreateInstance(child.GetType()))) || child is "")
            {
                // Booleans count as set when true, the value the writer does not leave out.
                if (!(property.PropertyType == typeof(bool?) && child is false))
                {
                    unset.Add(childPath);
                }
                continue;
            }
            if (child is IDictionary dictionary)
            {
                foreach (DictionaryEntry entry in dictionary)
                {
                    Walk(entry.Value!, $"{childPath}[{entry.Key}]", unset, seen);
                }
            }
            else if (child is IList list)
            {
                for (var i = 0; i < list.Count; i++)
                {
                    Walk(list[i]!, $"{childPath}[{i}]", unset, seen);
                }
            }
            else
            {
                Walk(child, childPath, unset, seen);
            }
        }
    }

    /// <summary>Documents that are not a valid spec, or valid in a corner the serializer has a rule for.</summary>
    public static TheoryData<string> Corners => new()
    {
        // null where the property is not nullable, and where it is
        """{"ociVersion":null}""",
        """{"ociVersion":"1","process":{"cwd":null}}""",
        """{"ociVersion":"1","process":{"user":null}}""",
        """{"ociVersion":"1","process":{"user":{"uid":null}}}""",
        """{"ociVersion":"1","process":{"terminal":null}}""",
        """{"ociVersion":"1","root":{"path":null}}""",
        """{"ociVersion":"1","linux":{"seccomp":{"defaultAction":"a","syscalls":[{"names":null}]}}}""",
        """{"ociVersion":"1","linux":{"resources":{"pids":{"limit":null}}}}""",
        """{"ociVersion":"1","mounts":[{"destination":null}]}""",
        """{"ociVersion":"1","process":null,"root":null,"hostname":null,"mounts":null,"hooks":null,"annotations":null,"linux":null}""",
        """{"ociVersion":"1","process":{"cwd":"/","args":[null,"a"],"oomScoreAdj":null,"user":{"umask":null}}}""",
        """{"ociVersion":"1","mounts":[null,{"destination":"/"}],"annotations":{"a":null}}""",
        """{"ociVersion":"1","linux":{"timeOffsets":{"monotonic":null},"netDevices":{"eth0":null}}}""",
        """{"ociVersion":"1","process":{"user":{"additionalGids":[1,null]}}}""",
        // wrong JSON type for each kind of C# type
        """{"ociVersion":5}""",
        """{"ociVersion":true}""",
        """{"ociVersion":{}}""",
        """{"ociVersion":[]}""",
        """{"ociVersion":"1","hostname":1.5}""",
        """{"ociVersion":"1","process":"sh"}""",
        """{"ociVersion":"1","process":[]}""",
        """{"ociVersion":"1","process":{"terminal":"yes"}}""",
        """{"ociVersion":"1","process":{"terminal":1}}""",
        """{"ociVersion":"1","process":{"args":"sh"}}""",
        """{"ociVersion":"1","process":{"args":{}}}""",
        """{"ociVersion":"1","process":{"args":["sh",5]}}""",
        """{"ociVersion":"1","process":{"user":{"uid":"0"}}}""",
        """{"ociVersion":"1","process":{"user":{"umask":"18"}}}""",
        """{"ociVersion":"1","process":{"user":{"additionalGids":["5"]}}}""",
        """{"ociVersion":"1","process":{"oomScoreAdj":true}}""",
        """{"ociVersion":"1","process":{"consoleSize":{"height":[]}}}""",
        """{"ociVersion":"1","process":{"ioPriority":{"priority":"4"}}}""",
        """{"ociVersion":"1","annotations":[]}""",
        """{"ociVersion":"1","annotations":{"a":1}}""",
        """{"ociVersion":"1","linux":{"sysctl":{"net.ipv4.ip_forward":1}}}""",
        """{"ociVersion":"1","linux":{"timeOffsets":{"monotonic":5}}}""",
        """{"ociVersion":"1","linux":{"timeOffsets":{"monotonic":{"secs":"1"}}}}""",
        """{"ociVersion":"1","linux":{"resources":{"rdma":{"mlx":{"hcaHandles":-1}}}}}""",
        """{"ociVersion":"1","linux":{"resources":{"memory":{"disableOOMKiller":"no"}}}}""",
        """{"ociVersion":"1","linux":{"intelRdt":{"enableCMT":0}}}""",
        """{"ociVersion":"1","mounts":[5]}""",
        """{"ociVersion":"1","mounts":[{"destination":"/","uidMappings":[{"size":-1}]}]}""",
        """{"ociVersion":"1","hooks":{"poststop":[{"path":"/x","timeout":"5"}]}}""",
        // numbers outside their C# type, or not integers
        """{"ociVersion":"1","process":{"user":{"uid":-1}}}""",
        """{"ociVersion":"1","process":{"user":{"uid":4294967296}}}""",
        """{"ociVersion":"1","process":{"user":{"gid":1.0}}}""",
        """{"ociVersion":"1","process":{"user":{"gid":1e3}}}""",
        """{"ociVersion":"1","process":{"user":{"gid":-0}}}""",
        """{"ociVersion":"1","process":{"oomScoreAdj":2147483648}}""",
        """{"ociVersion":"1","process":{"oomScoreAdj":-2147483649}}""",
        """{"ociVersion":"1","process":{"oomScoreAdj":-2147483648}}""",
        """{"ociVersion":"1","process":{"rlimits":[{"type":"RLIMIT_CORE","hard":18446744073709551616}]}}""",
        """{"ociVersion":"1","process":{"rlimits":[{"type":"RLIMIT_CORE","soft":-1}]}}""",
        """{"ociVersion":"1","process":{"rlimits":[{"type":"RLIMIT_CORE","soft":18446744073709551615}]}}""",
        """{"ociVersion":"1","linux":{"resources":{"memory":{"limit":9223372036854775808}}}}""",
        """{"ociVersion":"1","linux":{"resources":{"memory":{"limit":-9223372036854775808}}}}""",
        """{"ociVersion":"1","linux":{"resources":{"blockIO":{"weight":65536}}}}""",
        """{"ociVersion":"1","linux":{"resources":{"blockIO":{"weight":65535,"weightDevice":[{"major":1,"minor":2,"leafWeight":-1}]}}}}""",
        """{"ociVersion":"1","linux":{"seccomp":{"defaultAction":"a","syscalls":[{"names":["x"],"args":[{"value":1.5}]}]}}}""",
        // unknown properties of every shape, anywhere
        """{"x":1,"ociVersion":"1","y":"s","z":true,"w":false,"v":null,"u":{"a":[1,{"b":null}]},"t":[[],{},"x"],"root":{"path":"r","q":{}}}""",
        """{"ociVersion":"1","process":{"cwd":"/","user":{"uid":1,"extra":[1,2]},"future":{"deep":{"deeper":[true]}}}}""",
        """{"ociVersion":"1","linux":{"resources":{"memory":{"limit":1,"x":-1.5e10}},"seccomp":{"defaultAction":"a","syscalls":[{"names":[],"y":{}}]}}}""",
        """{"OCIVERSION":"x","ociversion":"y","ociVersion":"1"}""",
        """{"\u006fciVersion":"escaped name","root":{"p\u0061th":"r"}}""",
        // duplicate keys: the last one wins
        """{"ociVersion":"1","ociVersion":"2","root":{"path":"a"},"root":{"readonly":true}}""",
        """{"ociVersion":"1","annotations":{"a":"1","a":"2"},"process":{"args":["a"],"args":["b"],"user":{"uid":1},"user":{"gid":2}}}""",
        // syntax
        "{\"ociVersion\":\"1\",}",
        "{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\",]}}",
        "{\"ociVersion\":\"1\",\"process\":{\"args\":[,]}}",
        "{\"ociVersion\":\"1\",\"annotations\":{\"a.b\":\"1\",}}",
        "{\"ociVersion\":\"1\",\"annotations\":{\"a\":\"1\",}}",
        "{\"ociVersion\":\"1\",\"linux\":{\"timeOffsets\":{\"monotonic\":{\"secs\":1},}}}",
        "{\"ociVersion\":\"1\",\"mounts\":[{\"destination\":\"/\"},]}",
        "{\"ociVersion\":\"1\",\"x\":[1,]}",
        "{\"ociVersion\":\"1\" // comment\n}",
        "{\"ociVersion\":\"1\",/* c */\"hostname\":\"h\"}",
        "{\"ociVersion\":'1'}",
        "{\"ociVersion\":\"1\",\"process\":{\"terminal\":tru}}",
        "{\"ociVersion\":\"1\" \"hostname\":\"h\"}",
        "{\"ociVersion\" \"1\"}",
        "{\"ociVersion\":\"1\"}}",
        "{\"ociVersion\":\"1\"} x",
        "{\"ociVersion\":\"1\"} {}",
        "{\"ociVersion\":\"1\"}  \n\t ",
        "{\"ociVersion\":\"1\",\"hostname\":\"a\tb\"}",
        "{\"ociVersion\":\"1\",\"hostname\":\"\\x\"}",
        "{\"ociVersion\":\"1\",\"x\":{\"a\":[1,}}",
        // truncated
        "{",
        "{\"ociVersion\"",
        "{\"ociVersion\":",
        "{\"ociVersion\":\"1.2",
        "{\"ociVersion\":\"1\",",
        "{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\"",
        "{\"ociVersion\":\"1\",\"annotations\":{\"a\":\"b\"",
        "{\"ociVersion\":\"1\",\"process\":{\"user\":{\"uid\":1",
        "{\"ociVersion\":\"1\",\"x\":{\"y\":[{",
        "{\"ociVersion\":\"1\",\"linux\":{\"sysctl\":{\"k.x\":",
        // lines
        "{\n  \"ociVersion\": \"1\",\n  \"process\": {\n    \"cwd\": \"/\",\n    \"args\": [\n      \"a\",\n      7\n    ]\n  }\n}",
        "{\r\n  \"ociVersion\": \"1\",\r\n\r\n  \"linux\": {\r\n    \"namespaces\": [ { \"type\": null } ]\r\n  }\r\n}",
        "{\n\n\n  \"ociVersion\": \"1\",\n  \"mounts\": [\n\n  {\"destination\": \"/\"},\n  {\"destination\": \"/x\",\n\n  }]\n}",
    };

    [Theory]
    [MemberData(nameof(Corners))]
    public void LoaderAgreesWithTheSerializerOnEveryCorner(string json)
    {
        var (expectedSpec, expectedError) = ReferenceSpecLoader.Parse(json);

        string? actualError = null;
        Spec? actualSpec = null;
        try
        {
            actualSpec = SpecLoader.Parse(json);
        }
        catch (SpecException ex)
        {
            actualError = ex.Message;
        }

        Assert.Equal(expectedError, actualError);
        if (expectedSpec is not null)
        {
            Assert.Equal(ReferenceCompact(expectedSpec), ReferenceCompact(actualSpec!));
        }
    }

    [Theory]
    [MemberData(nameof(Corners))]
    public void CodecReportsTheSerializersPathAndLine(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        JsonException? expected = null;
        try
        {
            JsonSerializer.Deserialize(bytes, ReferenceJsonContext.Default.Spec);
        }
        catch (JsonException ex)
        {
            expected = ex;
        }

        SpecJsonException? actual = null;
        try
        {
            SpecJson.ReadSpec(bytes);
        }
        catch (SpecJsonException ex)
        {
            actual = ex;
        }

        Assert.Equal(expected is null, actual is null);
        if (expected is not null)
        {
            Assert.Equal(expected.Path, actual!.Path);
            Assert.Equal(expected.LineNumber, actual.LineNumber);
            Assert.Equal(expected.InnerException is JsonException, actual.IsSyntaxError);
        }
    }

    public static TheoryData<byte[]> InvalidUtf8 => new()
    {
        Bytes("{\"ociVersion\":\"1\",\"hostname\":\"a", 0xFF, "\"}"),
        Bytes("{\"ociVersion\":\"1\",\"x", 0xC3, "\":1}"),
        Bytes("{\"ociVersion\":\"1\",\"annotations\":{\"k", 0xFE, "\":\"v\"}}"),
        Bytes("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"", 0xED, 0xA0, 0x80, "\"]}}"),
    };

    private static byte[] Bytes(params object[] parts) =>
        parts.SelectMany(p => p is string s ? Encoding.UTF8.GetBytes(s) : [Convert.ToByte(p)]).ToArray();

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void InvalidUtf8IsReportedLikeTheSerializer(byte[] json)
    {
        var (expectedSpec, expectedError) = ReferenceSpecLoader.Parse(json);

        string? actualError = null;
        Spec? actualSpec = null;
        try
        {
            actualSpec = SpecLoader.Parse(json);
        }
        catch (SpecException ex)
        {
            actualError = ex.Message;
        }

        Assert.Equal(expectedError, actualError);
        Assert.Equal(expectedSpec?.Hostname, actualSpec?.Hostname);
    }

    [Fact]
    public void ErrorsInAStandaloneProcessOrResourcesDocumentCarryTheirPath()
    {
        var process = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize("{\"cwd\":\"/\",\n\"args\":[\"sh\",1]}", ConverterJsonContext.Default.Process));
        Assert.Equal("invalid value at $.args[1]: expected a string", process.Message);
        Assert.Equal(1, process.LineNumber);

        var resources = Assert.Throws<SpecJsonException>(() => SpecJson.ReadLinuxResources("{\"memory\":{\"limit\":\"1G\"}}"u8));
        Assert.Equal("invalid value at $.memory.limit (line 1): expected a 64-bit signed integer or null", resources.Message);
        Assert.Equal("$.memory.limit", resources.Path);
    }

    [Fact]
    public void DeepNestingInAnUnknownPropertyIsReadUpToTheSerializersLimit()
    {
        static string Nested(int depth) => "{\"ociVersion\":\"1\",\"x\":" + new string('[', depth) + new string(']', depth) + "}";

        // The document object is one level: 63 arrays inside it reach the limit of 64, 64 exceed it.
        Assert.Equal("1", SpecLoader.Parse(Nested(63)).OciVersion);
        var error = Assert.Throws<SpecException>(() => SpecLoader.Parse(Nested(64)));
        Assert.Equal(ReferenceSpecLoader.Parse(Nested(64)).Error, error.Message);
        Assert.StartsWith("config.json: invalid JSON at $.x (line 1): The maximum configured depth of 64 has been exceeded", error.Message);
    }

    [Fact]
    public void ByteOrderMarkIsHandledLikeTheSerializer()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat("{\"ociVersion\":\"1\"}"u8.ToArray()).ToArray();

        Spec? expected = null;
        try
        {
            expected = JsonSerializer.Deserialize(bytes, ReferenceJsonContext.Default.Spec);
        }
        catch (JsonException)
        {
        }
        Spec? actual = null;
        try
        {
            actual = SpecJson.ReadSpec(bytes);
        }
        catch (SpecJsonException)
        {
        }

        Assert.Equal(expected?.OciVersion, actual?.OciVersion);
        Assert.Equal("1", SpecLoader.Parse(bytes).OciVersion);
    }

    [Fact]
    public void ErrorsNameThePathInTheSerializersNotationAndTheLine()
    {
        Assert.Equal(
            "config.json: invalid value at $.process.args[1] (line 7): expected a string",
            Assert.Throws<SpecException>(() => SpecLoader.Parse("{\n  \"ociVersion\": \"1\",\n  \"process\": {\n    \"cwd\": \"/\",\n    \"args\": [\n      \"a\",\n      7\n    ]\n  }\n}")).Message);
        Assert.Equal(
            "config.json: invalid value at $.linux.sysctl['net.ipv4.ip_forward'] (line 1): expected a string",
            Assert.Throws<SpecException>(() => SpecLoader.Parse("""{"ociVersion":"1","linux":{"sysctl":{"net.ipv4.ip_forward":1}}}""")).Message);
        Assert.Equal(
            "config.json: invalid value at $.process.user.additionalGids[1] (line 1): expected a 32-bit unsigned integer",
            Assert.Throws<SpecException>(() => SpecLoader.Parse("""{"ociVersion":"1","process":{"user":{"additionalGids":[1,null]}}}""")).Message);
        Assert.Equal(
            "config.json: invalid value at $.linux.resources.blockIO.weight (line 1): expected a 16-bit unsigned integer or null",
            Assert.Throws<SpecException>(() => SpecLoader.Parse("""{"ociVersion":"1","linux":{"resources":{"blockIO":{"weight":65536}}}}""")).Message);
        Assert.Equal(
            "config.json: invalid JSON at $.process.args[1] (line 1): trailing commas are not allowed",
            Assert.Throws<SpecException>(() => SpecLoader.Parse("{\"ociVersion\":\"1\",\"process\":{\"args\":[\"a\",]}}")).Message);
        Assert.Equal(
            "config.json: invalid value at $.linux.seccomp.syscalls[0].names (line 1): null is not allowed here",
            Assert.Throws<SpecException>(() => SpecLoader.Parse("""{"ociVersion":"1","linux":{"seccomp":{"defaultAction":"a","syscalls":[{"names":null}]}}}""")).Message);
    }

    [Fact]
    public void NullElementsAreKeptAndUnknownPropertiesSkipped()
    {
        var spec = SpecLoader.Parse("""{"x":{"y":[1,{"z":null}]},"ociVersion":"1","mounts":[null],"process":{"args":[null],"user":{"uid":7,"q":[]}},"annotations":{"a":null}}""");

        Assert.Equal("1", spec.OciVersion);
        Assert.Null(Assert.Single(spec.Mounts!));
        Assert.Null(Assert.Single(spec.Process!.Args!));
        Assert.Equal(7U, spec.Process.User.Uid);
        Assert.Null(spec.Annotations!["a"]);
    }

    [Fact]
    public void ContextsHandTheSpecGraphToTheConverters()
    {
        Assert.IsType<SpecJsonConverter>(ConverterJsonContext.Default.Spec.Converter);
        Assert.IsType<ProcessJsonConverter>(ConverterJsonContext.Default.Process.Converter);
        Assert.IsType<LinuxResourcesJsonConverter>(ConverterJsonContext.Default.LinuxResources.Converter);
        // No properties: the serializer does not look inside a type it has a converter for.
        Assert.Equal(JsonTypeInfoKind.None, ConverterJsonContext.Default.Spec.Kind);
    }

    [Fact]
    public void RuntimeStateEmbedsTheSpecAsTheCodecWritesIt()
    {
        var spec = KitchenSink.Create();
        var state = new RuntimeState { Id = "c1", Bundle = "/b", Config = spec };

        var json = RuntimeJson.Write(state);
        using var document = JsonDocument.Parse(json);

        Assert.Equal(ReferenceCompact(spec), document.RootElement.GetProperty("config").GetRawText());
        var back = RuntimeJson.ReadState(json);
        Assert.Equal(ReferenceCompact(spec), ReferenceCompact(back.Config!));
        Assert.Equal("c1", back.Id);
    }

    [Fact]
    public void ErrorsInsideAnEmbeddedSpecCarryTheirPath()
    {
        const string json = "{\"id\":\"c1\",\n\"config\":{\"ociVersion\":\"1\",\n\"process\":{\"cwd\":null}}}";

        var error = Assert.IsType<SpecJsonException>(Assert.ThrowsAny<JsonException>(() => RuntimeJson.ReadState(System.Text.Encoding.UTF8.GetBytes(json))));

        Assert.Equal("invalid value at $.config.process.cwd (line 3): null is not allowed here", error.Message);
        Assert.Equal("$.config.process.cwd", error.DocumentPath);
    }

    [Fact]
    public void SyntaxErrorsInsideAnEmbeddedSpecCarryTheirPath()
    {
        var error = Assert.ThrowsAny<JsonException>(() =>
            RuntimeJson.ReadState("{\"config\":{\"ociVersion\":\"1\",\"mounts\":[{\"destination\":\"/\"},]}}"u8));

        Assert.Equal("invalid JSON at $.config.mounts[1] (line 1): trailing commas are not allowed", error.Message);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(42, true)]
    public void ContainerStateIsWrittenAsTheGeneratedSerializerWritesIt(int pid, bool annotated)
    {
        var state = new ContainerState
        {
            OciVersion = "1.2.0", Id = "c1", Status = "running", Pid = pid, Bundle = "/b \"q\"",
            Annotations = annotated ? new() { ["a"] = "1", ["x.y/z"] = "\u00e9" } : null,
        };

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(state, OciJsonContext.Default.ContainerState), ContainerStateJson.ToUtf8Bytes(state));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(state, ReferenceJson.IndentedOci.ContainerState), ContainerStateJson.ToUtf8Bytes(state, indented: true));
    }
}
