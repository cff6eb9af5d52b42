using System.Buffers;
using System.Text.Json;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Runtime.Seccomp;

namespace Moat.Runtime.State;

/// <summary>
/// state.json, the init message and the seccomp cache entries, read and written by hand over
/// Utf8JsonReader/Utf8JsonWriter. These are read or written by every create, start, delete, state
/// and init: the source-generated serializer's run-time metadata set-up (reflection over the types'
/// attributes under NativeAOT) cost more than the rest of such a command. The embedded Spec goes
/// through the OCI codec. Unknown properties are skipped; a missing one keeps its default.
/// Errors are <see cref="JsonException"/>s that name the property.
/// </summary>
public static class RuntimeJson
{
    static readonly JsonSerializerOptions Unused = new();

    public static byte[] Write(RuntimeState state) => ToBytes(w => WriteState(w, state));

    public static RuntimeState ReadState(ReadOnlySpan<byte> utf8)
    {
        var r = new Utf8JsonReader(utf8);
        var state = new RuntimeState();
        StartObject(ref r);
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "phase": state.Phase = Text(ref r, name); break;
                case "id": state.Id = Text(ref r, name); break;
                case "pid": state.Pid = Number(ref r, name, (ref Utf8JsonReader x) => x.GetInt32()); break;
                case "pidStartTime": state.PidStartTime = Number(ref r, name, (ref Utf8JsonReader x) => x.GetUInt64()); break;
                case "bundle": state.Bundle = Text(ref r, name); break;
                case "rootfs": state.Rootfs = Text(ref r, name); break;
                case "created": state.Created = Value(ref r, name, JsonTokenType.String, (ref Utf8JsonReader x) => x.GetDateTimeOffset()); break;
                case "owner": state.Owner = Text(ref r, name); break;
                case "annotations": state.Annotations = StringMap(ref r, name); break;
                case "cgroupDirectories": state.CgroupDirectories = Strings(ref r, name) ?? []; break;
                case "cgroupCreated": state.CgroupCreated = Flag(ref r, name); break;
                case "cgroupPath": state.CgroupPath = Text(ref r, name); break;
                case "config": state.Config = r.TokenType == JsonTokenType.Null ? null : Spec(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return state;
    }

    public static byte[] Write(InitMessage message) => ToBytes(w => WriteInit(w, message));

    public static InitMessage ReadInit(ReadOnlySpan<byte> utf8)
    {
        var r = new Utf8JsonReader(utf8);
        var message = new InitMessage();
        StartObject(ref r);
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "id": message.Id = Text(ref r, name); break;
                case "spec": message.Spec = Spec(ref r, name); break;
                case "bundle": message.Bundle = Text(ref r, name); break;
                case "rootfs": message.Rootfs = Text(ref r, name); break;
                case "noPivot": message.NoPivot = Flag(ref r, name); break;
                case "noNewKeyring": message.NoNewKeyring = Flag(ref r, name); break;
                case "preserveFds": message.PreserveFds = Int(ref r, name); break;
                case "stateDirFd": message.StateDirFd = Int(ref r, name); break;
                case "startImmediately": message.StartImmediately = Flag(ref r, name); break;
                case "exec": message.Exec = Flag(ref r, name); break;
                case "runtimeHooks": message.RuntimeHooks = Flag(ref r, name); break;
                case "seccomp": message.Seccomp = r.TokenType == JsonTokenType.Null ? null : ReadFilter(ref r); break;
                case "cgroupPath": message.CgroupPath = Text(ref r, name); break;
                case "idmapFds": message.IdmapFds = IntMap(ref r, name); break;
                case "cgroupHierarchies": message.CgroupHierarchies = List(ref r, name, ReadMountSource); break;
                default: r.Skip(); break;
            }
        }
        return message;
    }

    /// <summary>A seccomp cache file: the key it was compiled for, and the filter.</summary>
    public static byte[] WriteCacheEntry(string key, CompiledSeccompFilter filter) => ToBytes(w =>
    {
        w.WriteStartObject();
        w.WriteString("key"u8, key);
        w.WritePropertyName("filter"u8);
        WriteFilter(w, filter);
        w.WriteEndObject();
    });

    public static (string Key, CompiledSeccompFilter? Filter) ReadCacheEntry(ReadOnlySpan<byte> utf8)
    {
        var r = new Utf8JsonReader(utf8);
        string key = "";
        CompiledSeccompFilter? filter = null;
        StartObject(ref r);
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "key": key = Text(ref r, name); break;
                case "filter": filter = r.TokenType == JsonTokenType.Null ? null : ReadFilter(ref r); break;
                default: r.Skip(); break;
            }
        }
        return (key, filter);
    }

    static void WriteState(Utf8JsonWriter w, RuntimeState s)
    {
        w.WriteStartObject();
        w.WriteString("phase"u8, s.Phase);
        w.WriteString("id"u8, s.Id);
        w.WriteNumber("pid"u8, s.Pid);
        w.WriteNumber("pidStartTime"u8, s.PidStartTime);
        w.WriteString("bundle"u8, s.Bundle);
        w.WriteString("rootfs"u8, s.Rootfs);
        w.WriteString("created"u8, s.Created);
        w.WriteString("owner"u8, s.Owner);
        if (s.Annotations is { } annotations)
        {
            w.WriteStartObject("annotations"u8);
            foreach (var (key, value) in annotations)
                w.WriteString(key, value);
            w.WriteEndObject();
        }
        WriteStrings(w, "cgroupDirectories"u8, s.CgroupDirectories);
        w.WriteBoolean("cgroupCreated"u8, s.CgroupCreated);
        w.WriteString("cgroupPath"u8, s.CgroupPath);
        if (s.Config is { } config)
        {
            w.WritePropertyName("config"u8);
            SpecJson.Write(w, config);
        }
        w.WriteEndObject();
    }

    static void WriteInit(Utf8JsonWriter w, InitMessage m)
    {
        w.WriteStartObject();
        w.WriteString("id"u8, m.Id);
        w.WritePropertyName("spec"u8);
        SpecJson.Write(w, m.Spec);
        w.WriteString("bundle"u8, m.Bundle);
        w.WriteString("rootfs"u8, m.Rootfs);
        w.WriteBoolean("noPivot"u8, m.NoPivot);
        w.WriteBoolean("noNewKeyring"u8, m.NoNewKeyring);
        w.WriteNumber("preserveFds"u8, m.PreserveFds);
        w.WriteNumber("stateDirFd"u8, m.StateDirFd);
        w.WriteBoolean("startImmediately"u8, m.StartImmediately);
        w.WriteBoolean("exec"u8, m.Exec);
        w.WriteBoolean("runtimeHooks"u8, m.RuntimeHooks);
        if (m.Seccomp is { } filter)
        {
            w.WritePropertyName("seccomp"u8);
            WriteFilter(w, filter);
        }
        w.WriteString("cgroupPath"u8, m.CgroupPath);
        if (m.IdmapFds is { } idmaps)
        {
            w.WriteStartObject("idmapFds"u8);
            foreach (var (index, fd) in idmaps)
                w.WriteNumber(index.ToString(System.Globalization.CultureInfo.InvariantCulture), fd);
            w.WriteEndObject();
        }
        w.WriteStartArray("cgroupHierarchies"u8);
        foreach (var h in m.CgroupHierarchies)
        {
            w.WriteStartObject();
            w.WriteString("name"u8, h.Name);
            w.WriteString("directory"u8, h.Directory);
            w.WriteBoolean("v2"u8, h.IsV2);
            WriteStrings(w, "controllers"u8, h.Controllers);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void WriteFilter(Utf8JsonWriter w, CompiledSeccompFilter f)
    {
        w.WriteStartObject();
        w.WriteBase64String("program"u8, f.Program);
        w.WriteNumber("flags"u8, f.Flags);
        w.WriteNumber("enosysStubLength"u8, f.EnosysStubLength);
        w.WriteStartArray("architectureTokens"u8);
        foreach (var token in f.ArchitectureTokens)
            w.WriteNumberValue(token);
        w.WriteEndArray();
        WriteStrings(w, "skippedSyscalls"u8, f.SkippedSyscalls);
        if (f.ListenerPath is { } path)
            w.WriteString("listenerPath"u8, path);
        if (f.ListenerMetadata is { } metadata)
            w.WriteString("listenerMetadata"u8, metadata);
        w.WriteEndObject();
    }

    static CompiledSeccompFilter ReadFilter(ref Utf8JsonReader r)
    {
        byte[] program = [];
        uint flags = 0;
        var stub = 0;
        List<uint> tokens = [];
        List<string> skipped = [];
        string? listenerPath = null, listenerMetadata = null;
        StartObject(ref r);
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "program": program = Value(ref r, name, JsonTokenType.String, (ref Utf8JsonReader x) => x.GetBytesFromBase64()); break;
                case "flags": flags = Number(ref r, name, (ref Utf8JsonReader x) => x.GetUInt32()); break;
                case "enosysStubLength": stub = Int(ref r, name); break;
                case "architectureTokens": tokens = List(ref r, name, (ref Utf8JsonReader x) => Number(ref x, name, (ref Utf8JsonReader y) => y.GetUInt32())); break;
                case "skippedSyscalls": skipped = Strings(ref r, name) ?? []; break;
                case "listenerPath": listenerPath = r.TokenType == JsonTokenType.Null ? null : Text(ref r, name); break;
                case "listenerMetadata": listenerMetadata = r.TokenType == JsonTokenType.Null ? null : Text(ref r, name); break;
                default: r.Skip(); break;
            }
        }
        return new CompiledSeccompFilter
        {
            Program = program, Flags = flags, EnosysStubLength = stub, ArchitectureTokens = tokens,
            SkippedSyscalls = skipped, ListenerPath = listenerPath, ListenerMetadata = listenerMetadata,
        };
    }

    static CgroupMountSource ReadMountSource(ref Utf8JsonReader r)
    {
        var source = new CgroupMountSource();
        StartObject(ref r);
        while (NextProperty(ref r, out var name))
        {
            switch (name)
            {
                case "name": source.Name = Text(ref r, name); break;
                case "directory": source.Directory = Text(ref r, name); break;
                case "v2": source.IsV2 = Flag(ref r, name); break;
                case "controllers": source.Controllers = Strings(ref r, name) ?? []; break;
                default: r.Skip(); break;
            }
        }
        return source;
    }

    // ---- reading ----

    delegate T ValueReader<T>(ref Utf8JsonReader reader);

    // The reader stays on the last token of each value it has read (the value itself, or the end
    // of an object or array), so NextProperty always moves on by one token.
    static void StartObject(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.None)
            Next(ref r);
        if (r.TokenType != JsonTokenType.StartObject)
            throw new JsonException("expected an object");
    }

    /// <summary>Moves to the next property's value; false at the end of the object.</summary>
    static bool NextProperty(ref Utf8JsonReader r, out string name)
    {
        if (Next(ref r) == JsonTokenType.EndObject)
        {
            name = "";
            return false;
        }
        name = r.GetString()!;
        Next(ref r);
        return true;
    }

    static string Text(ref Utf8JsonReader r, string name) =>
        Value(ref r, name, JsonTokenType.String, (ref Utf8JsonReader x) => x.GetString()!);

    static bool Flag(ref Utf8JsonReader r, string name) => r.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw Wrong(name, "true or false"),
    };

    static int Int(ref Utf8JsonReader r, string name) => Number(ref r, name, (ref Utf8JsonReader x) => x.GetInt32());

    static T Number<T>(ref Utf8JsonReader r, string name, ValueReader<T> read) => Value(ref r, name, JsonTokenType.Number, read);

    static T Value<T>(ref Utf8JsonReader r, string name, JsonTokenType token, ValueReader<T> read)
    {
        if (r.TokenType != token)
            throw Wrong(name, token == JsonTokenType.String ? "a string" : "a number");
        try
        {
            return read(ref r);
        }
        catch (FormatException)
        {
            throw Wrong(name, token == JsonTokenType.String ? "a string of the right form" : "a number in range");
        }
    }

    static Spec Spec(ref Utf8JsonReader r, string name)
    {
        if (r.TokenType != JsonTokenType.StartObject)
            throw Wrong(name, "an object");
        return new SpecJsonConverter().Read(ref r, typeof(Spec), Unused);
    }

    static List<string>? Strings(ref Utf8JsonReader r, string name) =>
        r.TokenType == JsonTokenType.Null ? null : List(ref r, name, (ref Utf8JsonReader x) => Text(ref x, name));

    static List<T> List<T>(ref Utf8JsonReader r, string name, ValueReader<T> element)
    {
        if (r.TokenType != JsonTokenType.StartArray)
            throw Wrong(name, "an array");
        var list = new List<T>();
        while (Next(ref r) != JsonTokenType.EndArray)
            list.Add(element(ref r));
        return list;
    }

    static Dictionary<string, string>? StringMap(ref Utf8JsonReader r, string name)
    {
        if (r.TokenType == JsonTokenType.Null)
            return null;
        if (r.TokenType != JsonTokenType.StartObject)
            throw Wrong(name, "an object");
        var map = new Dictionary<string, string>();
        while (Next(ref r) == JsonTokenType.PropertyName)
        {
            var key = r.GetString()!;
            Next(ref r);
            map[key] = Text(ref r, $"{name}.{key}");
        }
        return map;
    }

    static Dictionary<int, int>? IntMap(ref Utf8JsonReader r, string name)
    {
        if (r.TokenType == JsonTokenType.Null)
            return null;
        if (r.TokenType != JsonTokenType.StartObject)
            throw Wrong(name, "an object");
        var map = new Dictionary<int, int>();
        while (Next(ref r) == JsonTokenType.PropertyName)
        {
            if (!int.TryParse(r.GetString(), System.Globalization.CultureInfo.InvariantCulture, out var key))
                throw Wrong(name, "integer keys");
            Next(ref r);
            map[key] = Int(ref r, name);
        }
        return map;
    }

    static JsonTokenType Next(ref Utf8JsonReader r)
    {
        if (!r.Read())
            throw new JsonException("unexpected end of data");
        return r.TokenType;
    }

    static JsonException Wrong(string name, string expected) => new($"\"{name}\": expected {expected}");

    // ---- writing ----

    static void WriteStrings(Utf8JsonWriter w, ReadOnlySpan<byte> name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
            w.WriteStringValue(value);
        w.WriteEndArray();
    }

    static byte[] ToBytes(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(8192);
        using (var writer = new Utf8JsonWriter(buffer))
            write(writer);
        return buffer.WrittenSpan.ToArray();
    }
}
