using System.Text.Json;
using static Moat.Oci.Json.JsonRead;

namespace Moat.Oci.Json;

/// <summary>Reads linux.resources (also a whole `update --resources` file).</summary>
internal static class ResourcesReader
{
    public static LinuxResources ReadResources(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var resources = new LinuxResources();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "devices"u8, "devices")) resources.Devices = NullableList(ref r, c, ReadDeviceCgroup);
            else if (c.Is(ref r, "memory"u8, "memory")) resources.Memory = NullableObject(ref r, c, ReadMemory);
            else if (c.Is(ref r, "cpu"u8, "cpu")) resources.Cpu = NullableObject(ref r, c, ReadCpu);
            else if (c.Is(ref r, "pids"u8, "pids")) resources.Pids = NullableObject(ref r, c, ReadPids);
            else if (c.Is(ref r, "blockIO"u8, "blockIO")) resources.BlockIo = NullableObject(ref r, c, ReadBlockIo);
            else if (c.Is(ref r, "hugepageLimits"u8, "hugepageLimits")) resources.HugepageLimits = NullableList(ref r, c, ReadHugepageLimit);
            else if (c.Is(ref r, "network"u8, "network")) resources.Network = NullableObject(ref r, c, ReadNetwork);
            else if (c.Is(ref r, "rdma"u8, "rdma")) resources.Rdma = NullableDictionary(ref r, c, ReadRdma);
            else if (c.Is(ref r, "unified"u8, "unified")) resources.Unified = NullableDictionary(ref r, c, String);
            else c.SkipUnknown(ref r);
        }
        return resources;
    }

    private static LinuxDeviceCgroup ReadDeviceCgroup(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var device = new LinuxDeviceCgroup();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "allow"u8, "allow")) device.Allow = Bool(ref r, c);
            else if (c.Is(ref r, "type"u8, "type")) device.Type = NullableString(ref r, c);
            else if (c.Is(ref r, "major"u8, "major")) device.Major = NullableInt64(ref r, c);
            else if (c.Is(ref r, "minor"u8, "minor")) device.Minor = NullableInt64(ref r, c);
            else if (c.Is(ref r, "access"u8, "access")) device.Access = NullableString(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return device;
    }

    private static LinuxMemory ReadMemory(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var memory = new LinuxMemory();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "limit"u8, "limit")) memory.Limit = NullableInt64(ref r, c);
            else if (c.Is(ref r, "reservation"u8, "reservation")) memory.Reservation = NullableInt64(ref r, c);
            else if (c.Is(ref r, "swap"u8, "swap")) memory.Swap = NullableInt64(ref r, c);
            else if (c.Is(ref r, "kernel"u8, "kernel")) memory.Kernel = NullableInt64(ref r, c);
            else if (c.Is(ref r, "kernelTCP"u8, "kernelTCP")) memory.KernelTcp = NullableInt64(ref r, c);
            else if (c.Is(ref r, "swappiness"u8, "swappiness")) memory.Swappiness = NullableUInt64(ref r, c);
            else if (c.Is(ref r, "disableOOMKiller"u8, "disableOOMKiller")) memory.DisableOomKiller = NullableBool(ref r, c);
            else if (c.Is(ref r, "useHierarchy"u8, "useHierarchy")) memory.UseHierarchy = NullableBool(ref r, c);
            else if (c.Is(ref r, "checkBeforeUpdate"u8, "checkBeforeUpdate")) memory.CheckBeforeUpdate = NullableBool(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return memory;
    }

    private static LinuxCpu ReadCpu(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var cpu = new LinuxCpu();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "shares"u8, "shares")) cpu.Shares = NullableUInt64(ref r, c);
            else if (c.Is(ref r, "quota"u8, "quota")) cpu.Quota = NullableInt64(ref r, c);
            else if (c.Is(ref r, "burst"u8, "burst")) cpu.Burst = NullableUInt64(ref r, c);
            else if (c.Is(ref r, "period"u8, "period")) cpu.Period = NullableUInt64(ref r, c);
            else if (c.Is(ref r, "realtimeRuntime"u8, "realtimeRuntime")) cpu.RealtimeRuntime = NullableInt64(ref r, c);
            else if (c.Is(ref r, "realtimePeriod"u8, "realtimePeriod")) cpu.RealtimePeriod = NullableUInt64(ref r, c);
            else if (c.Is(ref r, "cpus"u8, "cpus")) cpu.Cpus = NullableString(ref r, c);
            else if (c.Is(ref r, "mems"u8, "mems")) cpu.Mems = NullableString(ref r, c);
            else if (c.Is(ref r, "idle"u8, "idle")) cpu.Idle = NullableInt64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return cpu;
    }

    private static LinuxPids ReadPids(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var pids = new LinuxPids();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "limit"u8, "limit")) pids.Limit = Int64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return pids;
    }

    private static LinuxBlockIo ReadBlockIo(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var blockIo = new LinuxBlockIo();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "weight"u8, "weight")) blockIo.Weight = NullableUInt16(ref r, c);
            else if (c.Is(ref r, "leafWeight"u8, "leafWeight")) blockIo.LeafWeight = NullableUInt16(ref r, c);
            else if (c.Is(ref r, "weightDevice"u8, "weightDevice")) blockIo.WeightDevice = NullableList(ref r, c, ReadWeightDevice);
            else if (c.Is(ref r, "throttleReadBpsDevice"u8, "throttleReadBpsDevice")) blockIo.ThrottleReadBpsDevice = NullableList(ref r, c, ReadThrottleDevice);
            else if (c.Is(ref r, "throttleWriteBpsDevice"u8, "throttleWriteBpsDevice")) blockIo.ThrottleWriteBpsDevice = NullableList(ref r, c, ReadThrottleDevice);
            else if (c.Is(ref r, "throttleReadIOPSDevice"u8, "throttleReadIOPSDevice")) blockIo.ThrottleReadIopsDevice = NullableList(ref r, c, ReadThrottleDevice);
            else if (c.Is(ref r, "throttleWriteIOPSDevice"u8, "throttleWriteIOPSDevice")) blockIo.ThrottleWriteIopsDevice = NullableList(ref r, c, ReadThrottleDevice);
            else c.SkipUnknown(ref r);
        }
        return blockIo;
    }

    private static LinuxWeightDevice ReadWeightDevice(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var device = new LinuxWeightDevice();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "major"u8, "major")) device.Major = Int64(ref r, c);
            else if (c.Is(ref r, "minor"u8, "minor")) device.Minor = Int64(ref r, c);
            else if (c.Is(ref r, "weight"u8, "weight")) device.Weight = NullableUInt16(ref r, c);
            else if (c.Is(ref r, "leafWeight"u8, "leafWeight")) device.LeafWeight = NullableUInt16(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return device;
    }

    private static LinuxThrottleDevice ReadThrottleDevice(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var device = new LinuxThrottleDevice();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "major"u8, "major")) device.Major = Int64(ref r, c);
            else if (c.Is(ref r, "minor"u8, "minor")) device.Minor = Int64(ref r, c);
            else if (c.Is(ref r, "rate"u8, "rate")) device.Rate = UInt64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return device;
    }

    private static LinuxHugepageLimit ReadHugepageLimit(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var limit = new LinuxHugepageLimit();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "pageSize"u8, "pageSize")) limit.PageSize = String(ref r, c);
            else if (c.Is(ref r, "limit"u8, "limit")) limit.Limit = UInt64(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return limit;
    }

    private static LinuxNetwork ReadNetwork(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var network = new LinuxNetwork();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "classID"u8, "classID")) network.ClassId = NullableUInt32(ref r, c);
            else if (c.Is(ref r, "priorities"u8, "priorities")) network.Priorities = NullableList(ref r, c, ReadInterfacePriority);
            else c.SkipUnknown(ref r);
        }
        return network;
    }

    private static LinuxInterfacePriority ReadInterfacePriority(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var priority = new LinuxInterfacePriority();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "name"u8, "name")) priority.Name = String(ref r, c);
            else if (c.Is(ref r, "priority"u8, "priority")) priority.Priority = UInt32(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return priority;
    }

    private static LinuxRdma ReadRdma(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var rdma = new LinuxRdma();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "hcaHandles"u8, "hcaHandles")) rdma.HcaHandles = NullableUInt32(ref r, c);
            else if (c.Is(ref r, "hcaObjects"u8, "hcaObjects")) rdma.HcaObjects = NullableUInt32(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return rdma;
    }
}
