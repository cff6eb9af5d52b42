using System.Text.Json;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Runtime.Seccomp;
using static Moat.Oci.Json.JsonRead;

namespace Moat.Runtime.State;

/// <summary>
/// state.json and the seccomp cache entries, read and written by hand over Utf8JsonReader/
/// Utf8JsonWriter (the init message has its own codec, Protocol/InitMessageCodec, built the same
/// way). These are read or written by every create, start, delete and state: the source-generated serializer's run-time metadata set-up (reflection over the types'
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

    /// <summary>A seccomp cache file: the key it was compiled for, and the filter.</summary>
    /// <summary>A seccomp cache entry: the key's bytes (base64: as a JSON string the profile in it would triple in size), the library that compiled it, the filter.</summary>
    public static byte[] WriteCacheEntry(byte[] key, string library, CompiledSeccompFilter filter) => ToBytes(w =>
    {
        w.WriteStartObject();
        w.WriteBase64String("key"u8, key);
        w.WriteString("library"u8, library);
        w.WritePropertyName("filter"u8);
        WriteFilter(w, filter);
        w.WriteEndObject();
    });

    public static (byte[] Key, string Library, CompiledSeccompFilter? Filter) ReadCacheEntry(ReadOnlySpan<byte> utf8) =>
        SpecJson.ReadDocument(utf8, (ref Utf8JsonReader r, JsonReadContext c) =>
        {
            c.StartObject(ref r);
            byte[] key = [];
            var library = "";
            CompiledSeccompFilter? filter = null;
            while (c.NextProperty(ref r))
            {
                if (c.Is(ref r, "key"u8, "key")) key = Base64(ref r, c);
                else if (c.Is(ref r, "library"u8, "library")) library = String(ref r, c);
                else if (c.Is(ref r, "filter"u8, "filter")) filter = NullableObject(ref r, c, ReadFilter);
                else c.SkipUnknown(ref r);
            }
            return (key, library, filter);
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

    /// <summary>A compiled seccomp filter, in cache entries and in the init message.</summary>
    internal static void WriteFilter(Utf8JsonWriter w, CompiledSeccompFilter f)
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

    internal static CompiledSeccompFilter ReadFilter(ref Utf8JsonReader r, JsonReadContext c)
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

    // The value kinds the OCI codec has no reader for.

    static DateTimeOffset Time(ref Utf8JsonReader r, JsonReadContext c) =>
        r.TokenType == JsonTokenType.String && r.TryGetDateTimeOffset(out var value) ? value : throw c.Expected("an ISO 8601 date and time");

    static byte[] Base64(ref Utf8JsonReader r, JsonReadContext c) =>
        r.TokenType == JsonTokenType.String && r.TryGetBytesFromBase64(out var value) ? value : throw c.Expected("base64 data");

    static byte[] ToBytes(Action<Utf8JsonWriter> write) => SpecJson.ToUtf8Bytes(write);
}
