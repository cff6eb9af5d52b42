using System.Text.Json;
using static Moat.Oci.Json.JsonRead;

namespace Moat.Oci.Json;

/// <summary>Reads config.json's linux object, except resources and seccomp which have their own readers.</summary>
internal static class LinuxReader
{
    public static Linux ReadLinux(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var linux = new Linux();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "namespaces"u8, "namespaces")) linux.Namespaces = NullableList(ref r, c, ReadNamespace);
            else if (c.Is(ref r, "uidMappings"u8, "uidMappings")) linux.UidMappings = NullableList(ref r, c, ReadIdMapping);
            else if (c.Is(ref r, "gidMappings"u8, "gidMappings")) linux.GidMappings = NullableList(ref r, c, ReadIdMapping);
            else if (c.Is(ref r, "timeOffsets"u8, "timeOffsets")) linux.TimeOffsets = NullableDictionary(ref r, c, ReadTimeOffset);
            else if (c.Is(ref r, "devices"u8, "devices")) linux.Devices = NullableList(ref r, c, ReadDevice);
            else if (c.Is(ref r, "cgroupsPath"u8, "cgroupsPath")) linux.CgroupsPath = NullableString(ref r, c);
            else if (c.Is(ref r, "resources"u8, "resources")) linux.Resources = NullableObject(ref r, c, ResourcesReader.ReadResources);
            else if (c.Is(ref r, "intelRdt"u8, "intelRdt")) linux.IntelRdt = NullableObject(ref r, c, ReadIntelRdt);
            else if (c.Is(ref r, "sysctl"u8, "sysctl")) linux.Sysctl = NullableDictionary(ref r, c, String);
            else if (c.Is(ref r, "seccomp"u8, "seccomp")) linux.Seccomp = NullableObject(ref r, c, SeccompReader.ReadSeccomp);
            else if (c.Is(ref r, "rootfsPropagation"u8, "rootfsPropagation")) linux.RootfsPropagation = NullableString(ref r, c);
            else if (c.Is(ref r, "maskedPaths"u8, "maskedPaths")) linux.MaskedPaths = NullableList(ref r, c, String);
            else if (c.Is(ref r, "readonlyPaths"u8, "readonlyPaths")) linux.ReadonlyPaths = NullableList(ref r, c, String);
            else if (c.Is(ref r, "mountLabel"u8, "mountLabel")) linux.MountLabel = NullableString(ref r, c);
            else if (c.Is(ref r, "personality"u8, "personality")) linux.Personality = NullableObject(ref r, c, ReadPersonality);
            else if (c.Is(ref r, "netDevices"u8, "netDevices")) linux.NetDevices = NullableDictionary(ref r, c, ReadNetDevice);
            else c.SkipUnknown(ref r);
        }
        return linux;
    }

    private static LinuxNamespace ReadNamespace(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var ns = new LinuxNamespace();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "type"u8, "type")) ns.Type = String(ref r, c);
            else if (c.Is(ref r, "path"u8, "path")) ns.Path = NullableString(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return ns;
    }

    /// <summary>Shared with mounts, which carry id mappings of their own.</summary>
    public static LinuxIdMapping ReadIdMapping(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var mapping = new LinuxIdMapping();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "containerID"u8, "containerID")) mapping.ContainerId = UInt32(ref r, c);
            else if (c.Is(ref r, "hostID"u8, "hostID")) mapping.HostId = UInt32(ref r, c);
            else if (c.Is(ref r, "size"u8, "size")) mapping.Size = UInt32(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return mapping;
    }

    private static LinuxTimeOffset ReadTimeOffset(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var offset = new LinuxTimeOffset();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "secs"u8, "secs")) offset.Secs = Int64(ref r, c);
            else if (c.Is(ref r, "nanosecs"u8, "nanosecs")) offset.Nanosecs = UInt32(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return offset;
    }

    private static LinuxDevice ReadDevice(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var device = new LinuxDevice();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "type"u8, "type")) device.Type = String(ref r, c);
            else if (c.Is(ref r, "path"u8, "path")) device.Path = String(ref r, c);
            else if (c.Is(ref r, "major"u8, "major")) device.Major = NullableInt64(ref r, c);
            else if (c.Is(ref r, "minor"u8, "minor")) device.Minor = NullableInt64(ref r, c);
            else if (c.Is(ref r, "fileMode"u8, "fileMode")) device.FileMode = NullableUInt32(ref r, c);
            else if (c.Is(ref r, "uid"u8, "uid")) device.Uid = NullableUInt32(ref r, c);
            else if (c.Is(ref r, "gid"u8, "gid")) device.Gid = NullableUInt32(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return device;
    }

    private static LinuxIntelRdt ReadIntelRdt(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var rdt = new LinuxIntelRdt();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "closID"u8, "closID")) rdt.ClosId = NullableString(ref r, c);
            else if (c.Is(ref r, "l3CacheSchema"u8, "l3CacheSchema")) rdt.L3CacheSchema = NullableString(ref r, c);
            else if (c.Is(ref r, "memBwSchema"u8, "memBwSchema")) rdt.MemBwSchema = NullableString(ref r, c);
            else if (c.Is(ref r, "enableCMT"u8, "enableCMT")) rdt.EnableCmt = NullableBool(ref r, c);
            else if (c.Is(ref r, "enableMBM"u8, "enableMBM")) rdt.EnableMbm = NullableBool(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return rdt;
    }

    private static LinuxPersonality ReadPersonality(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var personality = new LinuxPersonality();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "domain"u8, "domain")) personality.Domain = String(ref r, c);
            else if (c.Is(ref r, "flags"u8, "flags")) personality.Flags = NullableList(ref r, c, String);
            else c.SkipUnknown(ref r);
        }
        return personality;
    }

    private static LinuxNetDevice ReadNetDevice(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var device = new LinuxNetDevice();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "name"u8, "name")) device.Name = NullableString(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return device;
    }
}
