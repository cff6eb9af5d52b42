using System.Text.Json;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Runtime.Init;
using Moat.Runtime.Seccomp;
using static Moat.Oci.Json.JsonRead;

namespace Moat.Runtime.State;

/// <summary>
/// state.json, the init message and the seccomp cache entries, read and written by hand over
/// Utf8JsonReader/Utf8JsonWriter. These are read or written by every create, start, delete, state
/// and init: the source-generated serializer's run-time metadata set-up (reflection over the types'
/// attributes under NativeAOT) cost more than the rest of such a command. The embedded Spec goes
/// through the OCI codec, and its readers and writers serve these documents too: unknown properties
/// are skipped, a missing one keeps its default, and errors are <see cref="SpecJsonException"/>s
/// with the path and line.
/// </summary>
public static class RuntimeJson
{
    public static byte[] Write(RuntimeState state) => ToBytes(w => WriteState(w, state));

    public static RuntimeState ReadState(ReadOnlySpan<byte> utf8) => SpecJson.ReadDocument(utf8, ReadState);

    /// <summary>
    /// state.json with its config left unparsed until used (<see cref="RuntimeState.Config"/>);
    /// <paramref name="configError"/> makes the error to throw then if it is broken. The rest is
    /// read, checked and reported as <see cref="ReadState(ReadOnlySpan{byte})"/> does.
    /// </summary>
    public static RuntimeState ReadStateDeferringConfig(byte[] utf8, Func<Exception> configError) =>
        SpecJson.ReadDocument(utf8, (ref Utf8JsonReader r, JsonReadContext c) => ReadState(ref r, c, (utf8, configError)));

    static RuntimeState ReadState(ref Utf8JsonReader r, JsonReadContext c) => ReadState(ref r, c, null);

    static RuntimeState ReadState(ref Utf8JsonReader r, JsonReadContext c, (byte[] Document, Func<Exception> Error)? defer)
    {
        c.StartObject(ref r);
        var state = new RuntimeState();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "phase"u8, "phase")) state.Phase = String(ref r, c);
            else if (c.Is(ref r, "id"u8, "id")) state.Id = String(ref r, c);
            else if (c.Is(ref r, "pid"u8, "pid")) state.Pid = Int32(ref r, c);
            else if (c.Is(ref r, "pidStartTime"u8, "pidStartTime")) state.PidStartTime = UInt64(ref r, c);
            else if (c.Is(ref r, "bundle"u8, "bundle")) state.Bundle = String(ref r, c);
            else if (c.Is(ref r, "rootfs"u8, "rootfs")) state.Rootfs = String(ref r, c);
            else if (c.Is(ref r, "created"u8, "created")) state.Created = Time(ref r, c);
            else if (c.Is(ref r, "owner"u8, "owner")) state.Owner = String(ref r, c);
            else if (c.Is(ref r, "isolation"u8, "isolation")) state.Isolation = String(ref r, c);
            else if (c.Is(ref r, "annotations"u8, "annotations")) state.Annotations = NullableDictionary(ref r, c, String);
            else if (c.Is(ref r, "cgroupDirectories"u8, "cgroupDirectories")) state.CgroupDirectories = List(ref r, c, String);
            else if (c.Is(ref r, "cgroupCreated"u8, "cgroupCreated")) state.CgroupCreated = Bool(ref r, c);
            else if (c.Is(ref r, "cgroupPath"u8, "cgroupPath")) state.CgroupPath = String(ref r, c);
            else if (c.Is(ref r, "config"u8, "config"))
            {
                if (defer is { } d && r.TokenType == JsonTokenType.StartObject)
                {
                    // The object's bytes, syntax-checked by Skip; its meaning is checked when parsed.
                    var start = (int)r.TokenStartIndex;
                    r.Skip();
                    state.DeferConfig(d.Document[start..(int)r.BytesConsumed], d.Error);
                }
                else
                    state.Config = NullableObject(ref r, c, SpecReader.ReadSpec);
            }
            else c.SkipUnknown(ref r);
        }
        return state;
    }

    public static byte[] Write(InitMessage message) => ToBytes(w => WriteInit(w, message));

    public static InitMessage ReadInit(ReadOnlySpan<byte> utf8) => SpecJson.ReadDocument(utf8, ReadInit);

    static InitMessage ReadInit(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var message = new InitMessage();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "id"u8, "id")) message.Id = String(ref r, c);
            else if (c.Is(ref r, "spec"u8, "spec")) message.Spec = Object(ref r, c, SpecReader.ReadSpec);
            else if (c.Is(ref r, "bundle"u8, "bundle")) message.Bundle = String(ref r, c);
            else if (c.Is(ref r, "rootfs"u8, "rootfs")) message.Rootfs = String(ref r, c);
            else if (c.Is(ref r, "noPivot"u8, "noPivot")) message.NoPivot = Bool(ref r, c);
            else if (c.Is(ref r, "noNewKeyring"u8, "noNewKeyring")) message.NoNewKeyring = Bool(ref r, c);
            else if (c.Is(ref r, "preserveFds"u8, "preserveFds")) message.PreserveFds = Int32(ref r, c);
            else if (c.Is(ref r, "stateDirFd"u8, "stateDirFd")) message.StateDirFd = Int32(ref r, c);
            else if (c.Is(ref r, "startImmediately"u8, "startImmediately")) message.StartImmediately = Bool(ref r, c);
            else if (c.Is(ref r, "exec"u8, "exec")) message.Exec = Bool(ref r, c);
            else if (c.Is(ref r, "runtimeHooks"u8, "runtimeHooks")) message.RuntimeHooks = Bool(ref r, c);
            else if (c.Is(ref r, "seccomp"u8, "seccomp")) message.Seccomp = NullableObject(ref r, c, ReadFilter);
            else if (c.Is(ref r, "cgroupPath"u8, "cgroupPath")) message.CgroupPath = String(ref r, c);
            else if (c.Is(ref r, "idmapFds"u8, "idmapFds")) message.IdmapFds = IntKeys(NullableDictionary(ref r, c, Int32), c);
            else if (c.Is(ref r, "bindSourceMounts"u8, "bindSourceMounts")) message.BindSourceMounts = List(ref r, c, Int32);
            else if (c.Is(ref r, "cgroupHierarchies"u8, "cgroupHierarchies")) message.CgroupHierarchies = List(ref r, c, ReadMountSource);
            else if (c.Is(ref r, "capabilities"u8, "capabilities")) message.Capabilities = Object(ref r, c, ReadCapabilities);
            else if (c.Is(ref r, "lastCapability"u8, "lastCapability")) message.LastCapability = Int32(ref r, c);
            else if (c.Is(ref r, "hostPid"u8, "hostPid")) message.HostPid = Int32(ref r, c);
            else c.SkipUnknown(ref r);
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

    public static (string Key, CompiledSeccompFilter? Filter) ReadCacheEntry(ReadOnlySpan<byte> utf8) =>
        SpecJson.ReadDocument(utf8, (ref Utf8JsonReader r, JsonReadContext c) =>
        {
            c.StartObject(ref r);
            var key = "";
            CompiledSeccompFilter? filter = null;
            while (c.NextProperty(ref r))
            {
                if (c.Is(ref r, "key"u8, "key")) key = String(ref r, c);
                else if (c.Is(ref r, "filter"u8, "filter")) filter = NullableObject(ref r, c, ReadFilter);
                else c.SkipUnknown(ref r);
            }
            return (key, filter);
        });

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
        if (s.Isolation is { } isolation)
            w.WriteString("isolation"u8, isolation);
        JsonWrite.Dictionary(w, "annotations"u8, s.Annotations);
        JsonWrite.Strings(w, "cgroupDirectories"u8, s.CgroupDirectories);
        w.WriteBoolean("cgroupCreated"u8, s.CgroupCreated);
        w.WriteString("cgroupPath"u8, s.CgroupPath);
        if (s.DeferredConfigJson is { } config)
        {
            // Never parsed: written back as read (the codec wrote it, so it is the same bytes).
            w.WritePropertyName("config"u8);
            w.WriteRawValue(config, skipInputValidation: true);
        }
        else
            JsonWrite.Object(w, "config"u8, s.Config, SpecWriter.WriteSpec);
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
        JsonWrite.Object(w, "seccomp"u8, m.Seccomp, WriteFilter);
        w.WriteString("cgroupPath"u8, m.CgroupPath);
        if (m.IdmapFds is { } idmaps)
        {
            w.WriteStartObject("idmapFds"u8);
            foreach (var (index, fd) in idmaps)
                w.WriteNumber(index.ToString(System.Globalization.CultureInfo.InvariantCulture), fd);
            w.WriteEndObject();
        }
        w.WriteStartObject("capabilities"u8);
        w.WriteNumber("bounding"u8, m.Capabilities.Bounding);
        w.WriteNumber("effective"u8, m.Capabilities.Effective);
        w.WriteNumber("permitted"u8, m.Capabilities.Permitted);
        w.WriteNumber("inheritable"u8, m.Capabilities.Inheritable);
        w.WriteNumber("ambient"u8, m.Capabilities.Ambient);
        w.WriteEndObject();
        w.WriteNumber("lastCapability"u8, m.LastCapability);
        if (m.BindSourceMounts is { } bindSources)
        {
            w.WriteStartArray("bindSourceMounts"u8);
            foreach (var index in bindSources)
                w.WriteNumberValue(index);
            w.WriteEndArray();
        }
        JsonWrite.List(w, "cgroupHierarchies"u8, m.CgroupHierarchies, (w, h) =>
        {
            w.WriteStartObject();
            w.WriteString("name"u8, h.Name);
            w.WriteString("directory"u8, h.Directory);
            w.WriteBoolean("v2"u8, h.IsV2);
            JsonWrite.Strings(w, "controllers"u8, h.Controllers);
            w.WriteEndObject();
        });
        w.WriteNumber("hostPid"u8, m.HostPid);
        w.WriteEndObject();
    }

    static CapabilitySets ReadCapabilities(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        ulong bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "bounding"u8, "bounding")) bounding = UInt64(ref r, c);
            else if (c.Is(ref r, "effective"u8, "effective")) effective = UInt64(ref r, c);
            else if (c.Is(ref r, "permitted"u8, "permitted")) permitted = UInt64(ref r, c);
            else if (c.Is(ref r, "inheritable"u8, "inheritable")) inheritable = UInt64(ref r, c);
            else if (c.Is(ref r, "ambient"u8, "ambient")) ambient = UInt64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return new CapabilitySets(bounding, effective, permitted, inheritable, ambient);
    }

    static void WriteFilter(Utf8JsonWriter w, CompiledSeccompFilter f)
    {
        w.WriteStartObject();
        w.WriteBase64String("program"u8, f.Program);
        w.WriteNumber("flags"u8, f.Flags);
        w.WriteNumber("enosysStubLength"u8, f.EnosysStubLength);
        JsonWrite.Numbers(w, "architectureTokens"u8, f.ArchitectureTokens);
        JsonWrite.Strings(w, "skippedSyscalls"u8, f.SkippedSyscalls);
        JsonWrite.String(w, "listenerPath"u8, f.ListenerPath);
        JsonWrite.String(w, "listenerMetadata"u8, f.ListenerMetadata);
        w.WriteEndObject();
    }

    static CompiledSeccompFilter ReadFilter(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        byte[] program = [];
        uint flags = 0;
        var stub = 0;
        List<uint> tokens = [];
        List<string> skipped = [];
        string? listenerPath = null, listenerMetadata = null;
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "program"u8, "program")) program = Base64(ref r, c);
            else if (c.Is(ref r, "flags"u8, "flags")) flags = UInt32(ref r, c);
            else if (c.Is(ref r, "enosysStubLength"u8, "enosysStubLength")) stub = Int32(ref r, c);
            else if (c.Is(ref r, "architectureTokens"u8, "architectureTokens")) tokens = List(ref r, c, UInt32);
            else if (c.Is(ref r, "skippedSyscalls"u8, "skippedSyscalls")) skipped = List(ref r, c, String);
            else if (c.Is(ref r, "listenerPath"u8, "listenerPath")) listenerPath = NullableString(ref r, c);
            else if (c.Is(ref r, "listenerMetadata"u8, "listenerMetadata")) listenerMetadata = NullableString(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return new CompiledSeccompFilter
        {
            Program = program, Flags = flags, EnosysStubLength = stub, ArchitectureTokens = tokens,
            SkippedSyscalls = skipped, ListenerPath = listenerPath, ListenerMetadata = listenerMetadata,
        };
    }

    static CgroupMountSource ReadMountSource(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var source = new CgroupMountSource();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "name"u8, "name")) source.Name = String(ref r, c);
            else if (c.Is(ref r, "directory"u8, "directory")) source.Directory = String(ref r, c);
            else if (c.Is(ref r, "v2"u8, "v2")) source.IsV2 = Bool(ref r, c);
            else if (c.Is(ref r, "controllers"u8, "controllers")) source.Controllers = List(ref r, c, String);
            else c.SkipUnknown(ref r);
        }
        return source;
    }

    // The value kinds the OCI codec has no reader for.

    static DateTimeOffset Time(ref Utf8JsonReader r, JsonReadContext c) =>
        r.TokenType == JsonTokenType.String && r.TryGetDateTimeOffset(out var value) ? value : throw c.Expected("an ISO 8601 date and time");

    static byte[] Base64(ref Utf8JsonReader r, JsonReadContext c) =>
        r.TokenType == JsonTokenType.String && r.TryGetBytesFromBase64(out var value) ? value : throw c.Expected("base64 data");

    // JSON keys are strings: the mount index is written as one.
    static Dictionary<int, int>? IntKeys(Dictionary<string, int>? map, JsonReadContext c) =>
        map?.ToDictionary(e => int.TryParse(e.Key, System.Globalization.CultureInfo.InvariantCulture, out var key) ? key : throw c.Expected("integer keys"), e => e.Value);

    static byte[] ToBytes(Action<Utf8JsonWriter> write) => SpecJson.ToUtf8Bytes(write);
}
