using System.Text.Json;
using Moat.Oci;
using Moat.Oci.Json;
using Moat.Runtime.Init;
using Moat.Runtime.State;
using static Moat.Oci.Json.JsonRead;

namespace Moat.Runtime.Protocol;

/// <summary>
/// The <see cref="StageFrame.Config"/> payload: the <see cref="InitMessage"/> read and written by
/// hand over Utf8JsonReader/Utf8JsonWriter, as state.json is (State/RuntimeJson): every create,
/// exec and init runs it, and the source-generated serializer's run-time metadata set-up cost more
/// than the rest of such a command. The embedded Spec goes through the OCI codec; unknown
/// properties are skipped, a missing one keeps its default, and errors are
/// <see cref="SpecJsonException"/>s with the path and line.
/// </summary>
public static class InitMessageCodec
{
    public static byte[] Write(InitMessage message) => SpecJson.ToUtf8Bytes(w => Write(w, message));

    public static InitMessage Read(ReadOnlySpan<byte> utf8) => SpecJson.ReadDocument(utf8, Read);

    static InitMessage Read(ref Utf8JsonReader r, JsonReadContext c)
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
            else if (c.Is(ref r, "seccomp"u8, "seccomp")) message.Seccomp = NullableObject(ref r, c, RuntimeJson.ReadFilter);
            else if (c.Is(ref r, "cgroupPath"u8, "cgroupPath")) message.CgroupPath = String(ref r, c);
            else if (c.Is(ref r, "idmapFds"u8, "idmapFds")) message.IdmapFds = IntKeys(NullableDictionary(ref r, c, Int32), c);
            else if (c.Is(ref r, "bindSourceMounts"u8, "bindSourceMounts")) message.BindSourceMounts = List(ref r, c, Int32);
            else if (c.Is(ref r, "cgroupHierarchies"u8, "cgroupHierarchies")) message.CgroupHierarchies = List(ref r, c, ReadMountSource);
            else if (c.Is(ref r, "capabilities"u8, "capabilities")) message.Capabilities = Object(ref r, c, ReadCapabilities);
            else if (c.Is(ref r, "lastCapability"u8, "lastCapability")) message.LastCapability = Int32(ref r, c);
            else if (c.Is(ref r, "hostPid"u8, "hostPid")) message.HostPid = Int32(ref r, c);
            else if (c.Is(ref r, "landlock"u8, "landlock")) message.Landlock = NullableObject(ref r, c, ReadLandlock);
            else if (c.Is(ref r, "seccompListenerFd"u8, "seccompListenerFd")) message.SeccompListenerFd = Int32(ref r, c);
            else if (c.Is(ref r, "lendSeccompFd"u8, "lendSeccompFd")) message.LendSeccompFd = Bool(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return message;
    }

    static void Write(Utf8JsonWriter w, InitMessage m)
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
        JsonWrite.Object(w, "seccomp"u8, m.Seccomp, RuntimeJson.WriteFilter);
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
        if (m.Landlock is { } landlock)
            WriteLandlock(w, landlock);
        if (m.SeccompListenerFd >= 0)
            w.WriteNumber("seccompListenerFd"u8, m.SeccompListenerFd);
        if (m.LendSeccompFd)
            w.WriteBoolean("lendSeccompFd"u8, true);
        w.WriteEndObject();
    }

    static void WriteLandlock(Utf8JsonWriter w, LandlockRuleset l)
    {
        w.WriteStartObject("landlock"u8);
        w.WriteNumber("handledFs"u8, l.HandledFs);
        w.WriteNumber("handledNet"u8, l.HandledNet);
        w.WriteNumber("scoped"u8, l.Scoped);
        JsonWrite.List(w, "paths"u8, l.Paths, (w, p) =>
        {
            w.WriteStartObject();
            w.WriteString("path"u8, p.Path);
            w.WriteNumber("access"u8, p.Access);
            w.WriteEndObject();
        });
        JsonWrite.List(w, "ports"u8, l.Ports, (w, p) =>
        {
            w.WriteStartObject();
            w.WriteNumber("port"u8, p.Port);
            w.WriteNumber("access"u8, p.Access);
            w.WriteEndObject();
        });
        w.WriteEndObject();
    }

    static LandlockRuleset ReadLandlock(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var l = new LandlockRuleset();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "handledFs"u8, "handledFs")) l.HandledFs = UInt64(ref r, c);
            else if (c.Is(ref r, "handledNet"u8, "handledNet")) l.HandledNet = UInt64(ref r, c);
            else if (c.Is(ref r, "scoped"u8, "scoped")) l.Scoped = UInt64(ref r, c);
            else if (c.Is(ref r, "paths"u8, "paths")) l.Paths = List(ref r, c, ReadPathRule);
            else if (c.Is(ref r, "ports"u8, "ports")) l.Ports = List(ref r, c, ReadPortRule);
            else c.SkipUnknown(ref r);
        }
        return l;
    }

    static LandlockPathRule ReadPathRule(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        string path = "";
        ulong access = 0;
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "path"u8, "path")) path = String(ref r, c);
            else if (c.Is(ref r, "access"u8, "access")) access = UInt64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return new LandlockPathRule(path, access);
    }

    static LandlockPortRule ReadPortRule(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        ulong port = 0, access = 0;
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "port"u8, "port")) port = UInt64(ref r, c);
            else if (c.Is(ref r, "access"u8, "access")) access = UInt64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return new LandlockPortRule((ushort)port, access);
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

    // JSON keys are strings: the mount index is written as one.
    static Dictionary<int, int>? IntKeys(Dictionary<string, int>? map, JsonReadContext c) =>
        map?.ToDictionary(e => int.TryParse(e.Key, System.Globalization.CultureInfo.InvariantCulture, out var key) ? key : throw c.Expected("integer keys"), e => e.Value);
}
