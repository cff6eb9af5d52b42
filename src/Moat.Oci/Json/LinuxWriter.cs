using System.Text.Json;
using static Moat.Oci.Json.JsonWrite;

namespace Moat.Oci.Json;

/// <summary>Writes linux, except resources and seccomp which have their own writers.</summary>
internal static class LinuxWriter
{
    public static void WriteLinux(Utf8JsonWriter w, Linux linux)
    {
        w.WriteStartObject();
        List(w, "namespaces"u8, linux.Namespaces, WriteNamespace);
        List(w, "uidMappings"u8, linux.UidMappings, WriteIdMapping);
        List(w, "gidMappings"u8, linux.GidMappings, WriteIdMapping);
        Dictionary(w, "timeOffsets"u8, linux.TimeOffsets, WriteTimeOffset);
        List(w, "devices"u8, linux.Devices, WriteDevice);
        String(w, "cgroupsPath"u8, linux.CgroupsPath);
        Object(w, "resources"u8, linux.Resources, ResourcesWriter.WriteResources);
        Object(w, "intelRdt"u8, linux.IntelRdt, WriteIntelRdt);
        Dictionary(w, "sysctl"u8, linux.Sysctl);
        Object(w, "seccomp"u8, linux.Seccomp, SeccompWriter.WriteSeccomp);
        String(w, "rootfsPropagation"u8, linux.RootfsPropagation);
        Strings(w, "maskedPaths"u8, linux.MaskedPaths);
        Strings(w, "readonlyPaths"u8, linux.ReadonlyPaths);
        String(w, "mountLabel"u8, linux.MountLabel);
        Object(w, "personality"u8, linux.Personality, WritePersonality);
        Dictionary(w, "netDevices"u8, linux.NetDevices, WriteNetDevice);
        w.WriteEndObject();
    }

    private static void WriteNamespace(Utf8JsonWriter w, LinuxNamespace ns)
    {
        w.WriteStartObject();
        String(w, "type"u8, ns.Type);
        String(w, "path"u8, ns.Path);
        w.WriteEndObject();
    }

    public static void WriteIdMapping(Utf8JsonWriter w, LinuxIdMapping mapping)
    {
        w.WriteStartObject();
        w.WriteNumber("containerID"u8, mapping.ContainerId);
        w.WriteNumber("hostID"u8, mapping.HostId);
        w.WriteNumber("size"u8, mapping.Size);
        w.WriteEndObject();
    }

    private static void WriteTimeOffset(Utf8JsonWriter w, LinuxTimeOffset offset)
    {
        w.WriteStartObject();
        w.WriteNumber("secs"u8, offset.Secs);
        w.WriteNumber("nanosecs"u8, offset.Nanosecs);
        w.WriteEndObject();
    }

    private static void WriteDevice(Utf8JsonWriter w, LinuxDevice device)
    {
        w.WriteStartObject();
        String(w, "type"u8, device.Type);
        String(w, "path"u8, device.Path);
        Number(w, "major"u8, device.Major);
        Number(w, "minor"u8, device.Minor);
        Number(w, "fileMode"u8, device.FileMode);
        Number(w, "uid"u8, device.Uid);
        Number(w, "gid"u8, device.Gid);
        w.WriteEndObject();
    }

    private static void WriteIntelRdt(Utf8JsonWriter w, LinuxIntelRdt rdt)
    {
        w.WriteStartObject();
        String(w, "closID"u8, rdt.ClosId);
        String(w, "l3CacheSchema"u8, rdt.L3CacheSchema);
        String(w, "memBwSchema"u8, rdt.MemBwSchema);
        Bool(w, "enableCMT"u8, rdt.EnableCmt);
        Bool(w, "enableMBM"u8, rdt.EnableMbm);
        w.WriteEndObject();
    }

    private static void WritePersonality(Utf8JsonWriter w, LinuxPersonality personality)
    {
        w.WriteStartObject();
        String(w, "domain"u8, personality.Domain);
        Strings(w, "flags"u8, personality.Flags);
        w.WriteEndObject();
    }

    private static void WriteNetDevice(Utf8JsonWriter w, LinuxNetDevice device)
    {
        w.WriteStartObject();
        String(w, "name"u8, device.Name);
        w.WriteEndObject();
    }
}
