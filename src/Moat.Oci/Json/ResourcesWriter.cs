using System.Text.Json;
using static Moat.Oci.Json.JsonWrite;

namespace Moat.Oci.Json;

/// <summary>Writes linux.resources.</summary>
internal static class ResourcesWriter
{
    public static void WriteResources(Utf8JsonWriter w, LinuxResources resources)
    {
        w.WriteStartObject();
        List(w, "devices"u8, resources.Devices, WriteDeviceCgroup);
        Object(w, "memory"u8, resources.Memory, WriteMemory);
        Object(w, "cpu"u8, resources.Cpu, WriteCpu);
        Object(w, "pids"u8, resources.Pids, WritePids);
        Object(w, "blockIO"u8, resources.BlockIo, WriteBlockIo);
        List(w, "hugepageLimits"u8, resources.HugepageLimits, WriteHugepageLimit);
        Object(w, "network"u8, resources.Network, WriteNetwork);
        Dictionary(w, "rdma"u8, resources.Rdma, WriteRdma);
        Dictionary(w, "unified"u8, resources.Unified);
        w.WriteEndObject();
    }

    private static void WriteDeviceCgroup(Utf8JsonWriter w, LinuxDeviceCgroup device)
    {
        w.WriteStartObject();
        w.WriteBoolean("allow"u8, device.Allow);
        String(w, "type"u8, device.Type);
        Number(w, "major"u8, device.Major);
        Number(w, "minor"u8, device.Minor);
        String(w, "access"u8, device.Access);
        w.WriteEndObject();
    }

    private static void WriteMemory(Utf8JsonWriter w, LinuxMemory memory)
    {
        w.WriteStartObject();
        Number(w, "limit"u8, memory.Limit);
        Number(w, "reservation"u8, memory.Reservation);
        Number(w, "swap"u8, memory.Swap);
        Number(w, "kernel"u8, memory.Kernel);
        Number(w, "kernelTCP"u8, memory.KernelTcp);
        Number(w, "swappiness"u8, memory.Swappiness);
        Bool(w, "disableOOMKiller"u8, memory.DisableOomKiller);
        Bool(w, "useHierarchy"u8, memory.UseHierarchy);
        Bool(w, "checkBeforeUpdate"u8, memory.CheckBeforeUpdate);
        w.WriteEndObject();
    }

    private static void WriteCpu(Utf8JsonWriter w, LinuxCpu cpu)
    {
        w.WriteStartObject();
        Number(w, "shares"u8, cpu.Shares);
        Number(w, "quota"u8, cpu.Quota);
        Number(w, "burst"u8, cpu.Burst);
        Number(w, "period"u8, cpu.Period);
        Number(w, "realtimeRuntime"u8, cpu.RealtimeRuntime);
        Number(w, "realtimePeriod"u8, cpu.RealtimePeriod);
        String(w, "cpus"u8, cpu.Cpus);
        String(w, "mems"u8, cpu.Mems);
        Number(w, "idle"u8, cpu.Idle);
        w.WriteEndObject();
    }

    private static void WritePids(Utf8JsonWriter w, LinuxPids pids)
    {
        w.WriteStartObject();
        w.WriteNumber("limit"u8, pids.Limit);
        w.WriteEndObject();
    }

    private static void WriteBlockIo(Utf8JsonWriter w, LinuxBlockIo blockIo)
    {
        w.WriteStartObject();
        Number(w, "weight"u8, blockIo.Weight);
        Number(w, "leafWeight"u8, blockIo.LeafWeight);
        List(w, "weightDevice"u8, blockIo.WeightDevice, WriteWeightDevice);
        List(w, "throttleReadBpsDevice"u8, blockIo.ThrottleReadBpsDevice, WriteThrottleDevice);
        List(w, "throttleWriteBpsDevice"u8, blockIo.ThrottleWriteBpsDevice, WriteThrottleDevice);
        List(w, "throttleReadIOPSDevice"u8, blockIo.ThrottleReadIopsDevice, WriteThrottleDevice);
        List(w, "throttleWriteIOPSDevice"u8, blockIo.ThrottleWriteIopsDevice, WriteThrottleDevice);
        w.WriteEndObject();
    }

    private static void WriteWeightDevice(Utf8JsonWriter w, LinuxWeightDevice device)
    {
        w.WriteStartObject();
        w.WriteNumber("major"u8, device.Major);
        w.WriteNumber("minor"u8, device.Minor);
        Number(w, "weight"u8, device.Weight);
        Number(w, "leafWeight"u8, device.LeafWeight);
        w.WriteEndObject();
    }

    private static void WriteThrottleDevice(Utf8JsonWriter w, LinuxThrottleDevice device)
    {
        w.WriteStartObject();
        w.WriteNumber("major"u8, device.Major);
        w.WriteNumber("minor"u8, device.Minor);
        w.WriteNumber("rate"u8, device.Rate);
        w.WriteEndObject();
    }

    private static void WriteHugepageLimit(Utf8JsonWriter w, LinuxHugepageLimit limit)
    {
        w.WriteStartObject();
        String(w, "pageSize"u8, limit.PageSize);
        w.WriteNumber("limit"u8, limit.Limit);
        w.WriteEndObject();
    }

    private static void WriteNetwork(Utf8JsonWriter w, LinuxNetwork network)
    {
        w.WriteStartObject();
        Number(w, "classID"u8, network.ClassId);
        List(w, "priorities"u8, network.Priorities, WriteInterfacePriority);
        w.WriteEndObject();
    }

    private static void WriteInterfacePriority(Utf8JsonWriter w, LinuxInterfacePriority priority)
    {
        w.WriteStartObject();
        String(w, "name"u8, priority.Name);
        w.WriteNumber("priority"u8, priority.Priority);
        w.WriteEndObject();
    }

    private static void WriteRdma(Utf8JsonWriter w, LinuxRdma rdma)
    {
        w.WriteStartObject();
        Number(w, "hcaHandles"u8, rdma.HcaHandles);
        Number(w, "hcaObjects"u8, rdma.HcaObjects);
        w.WriteEndObject();
    }
}
