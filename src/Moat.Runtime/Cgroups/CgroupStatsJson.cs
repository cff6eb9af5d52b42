using System.Text.Json;
using Moat.Oci.Json;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// <c>events --stats</c> JSON by hand, the bytes <see cref="CgroupStatsJsonContext"/> writes: nulls left
/// out, the fields marked WhenWritingDefault left out when zero, network_interfaces always written. A
/// serializer context here would put System.Text.Json's serializer into moat-runtime, ~0.3 MB of
/// resident type data in every process, for one rarely used command.
/// </summary>
internal static class CgroupStatsJson
{
    public static void WriteEvent(Utf8JsonWriter w, StatsEvent e)
    {
        w.WriteStartObject();
        w.WriteString("type"u8, e.Type);
        w.WriteString("id"u8, e.Id);
        JsonWrite.Object(w, "data"u8, e.Data, WriteStats);
        w.WriteEndObject();
    }

    public static void WriteStats(Utf8JsonWriter w, CgroupStats s)
    {
        w.WriteStartObject();
        JsonWrite.Object(w, "cpu"u8, s.Cpu, WriteCpu);
        JsonWrite.Object(w, "cpuset"u8, s.Cpuset, WriteCpuset);
        JsonWrite.Object(w, "memory"u8, s.Memory, WriteMemory);
        JsonWrite.Object(w, "pids"u8, s.Pids, WritePids);
        JsonWrite.Object(w, "blkio"u8, s.Blkio, WriteBlkio);
        JsonWrite.Dictionary(w, "hugetlb"u8, s.Hugetlb, WriteHugetlb);
        JsonWrite.Object(w, "intel_rdt"u8, s.IntelRdt, static (w, _) => { w.WriteStartObject(); w.WriteEndObject(); });
        if (s.NetworkInterfaces is null)
            w.WriteNull("network_interfaces"u8);
        else
            JsonWrite.List(w, "network_interfaces"u8, s.NetworkInterfaces, WriteInterface);
        w.WriteEndObject();
    }

    static void NonZero(Utf8JsonWriter w, ReadOnlySpan<byte> name, ulong value)
    {
        if (value != 0)
            w.WriteNumber(name, value);
    }

    static void Numbers(Utf8JsonWriter w, ReadOnlySpan<byte> name, List<ulong>? values)
    {
        if (values is null)
            return;
        w.WriteStartArray(name);
        foreach (var value in values)
            w.WriteNumberValue(value);
        w.WriteEndArray();
    }

    static void Numbers(Utf8JsonWriter w, ReadOnlySpan<byte> name, List<ushort>? values)
    {
        if (values is null)
            return;
        w.WriteStartArray(name);
        foreach (var value in values)
            w.WriteNumberValue((uint)value);
        w.WriteEndArray();
    }

    static void WriteCpu(Utf8JsonWriter w, CpuStats cpu)
    {
        w.WriteStartObject();
        JsonWrite.Object(w, "usage"u8, cpu.Usage, WriteCpuUsage);
        JsonWrite.Object(w, "throttling"u8, cpu.Throttling, WriteThrottling);
        JsonWrite.Object(w, "psi"u8, cpu.Psi, WritePsi);
        w.WriteEndObject();
    }

    static void WriteCpuUsage(Utf8JsonWriter w, CpuUsageStats usage)
    {
        w.WriteStartObject();
        NonZero(w, "total"u8, usage.Total);
        Numbers(w, "percpu"u8, usage.Percpu);
        Numbers(w, "percpu_kernel"u8, usage.PercpuKernel);
        Numbers(w, "percpu_user"u8, usage.PercpuUser);
        w.WriteNumber("kernel"u8, usage.Kernel);
        w.WriteNumber("user"u8, usage.User);
        w.WriteEndObject();
    }

    static void WriteThrottling(Utf8JsonWriter w, ThrottlingStats throttling)
    {
        w.WriteStartObject();
        NonZero(w, "periods"u8, throttling.Periods);
        NonZero(w, "throttledPeriods"u8, throttling.ThrottledPeriods);
        NonZero(w, "throttledTime"u8, throttling.ThrottledTime);
        w.WriteEndObject();
    }

    static void WritePsi(Utf8JsonWriter w, PsiStats psi)
    {
        w.WriteStartObject();
        JsonWrite.Object(w, "some"u8, psi.Some, WritePsiData);
        JsonWrite.Object(w, "full"u8, psi.Full, WritePsiData);
        w.WriteEndObject();
    }

    static void WritePsiData(Utf8JsonWriter w, PsiData data)
    {
        w.WriteStartObject();
        w.WriteNumber("avg10"u8, data.Avg10);
        w.WriteNumber("avg60"u8, data.Avg60);
        w.WriteNumber("avg300"u8, data.Avg300);
        w.WriteNumber("total"u8, data.Total);
        w.WriteEndObject();
    }

    static void WriteCpuset(Utf8JsonWriter w, CpusetStats cpuset)
    {
        w.WriteStartObject();
        Numbers(w, "cpus"u8, cpuset.Cpus);
        w.WriteNumber("cpu_exclusive"u8, cpuset.CpuExclusive);
        Numbers(w, "mems"u8, cpuset.Mems);
        w.WriteNumber("mem_hardwall"u8, cpuset.MemHardwall);
        w.WriteNumber("mem_exclusive"u8, cpuset.MemExclusive);
        w.WriteNumber("memory_migrate"u8, cpuset.MemoryMigrate);
        w.WriteNumber("memory_spread_page"u8, cpuset.MemorySpreadPage);
        w.WriteNumber("memory_spread_slab"u8, cpuset.MemorySpreadSlab);
        w.WriteNumber("memory_pressure"u8, cpuset.MemoryPressure);
        w.WriteNumber("sched_load_balance"u8, cpuset.SchedLoadBalance);
        w.WriteNumber("sched_relax_domain_level"u8, cpuset.SchedRelaxDomainLevel);
        w.WriteEndObject();
    }

    static void WriteMemoryEntry(Utf8JsonWriter w, MemoryEntry entry)
    {
        w.WriteStartObject();
        w.WriteNumber("limit"u8, entry.Limit);
        NonZero(w, "usage"u8, entry.Usage);
        NonZero(w, "max"u8, entry.Max);
        w.WriteNumber("failcnt"u8, entry.Failcnt);
        w.WriteEndObject();
    }

    static void WriteMemory(Utf8JsonWriter w, MemoryStats memory)
    {
        w.WriteStartObject();
        NonZero(w, "cache"u8, memory.Cache);
        JsonWrite.Object(w, "usage"u8, memory.Usage, WriteMemoryEntry);
        JsonWrite.Object(w, "swap"u8, memory.Swap, WriteMemoryEntry);
        JsonWrite.Object(w, "kernel"u8, memory.Kernel, WriteMemoryEntry);
        JsonWrite.Object(w, "kernelTCP"u8, memory.KernelTcp, WriteMemoryEntry);
        if (memory.Raw is { } raw)
        {
            w.WriteStartObject("raw"u8);
            foreach (var (key, value) in raw)
                w.WriteNumber(key, value);
            w.WriteEndObject();
        }
        JsonWrite.Object(w, "psi"u8, memory.Psi, WritePsi);
        w.WriteEndObject();
    }

    static void WritePids(Utf8JsonWriter w, PidsStats pids)
    {
        w.WriteStartObject();
        NonZero(w, "current"u8, pids.Current);
        NonZero(w, "limit"u8, pids.Limit);
        w.WriteEndObject();
    }

    static void WriteBlkioEntry(Utf8JsonWriter w, BlkioEntry entry)
    {
        w.WriteStartObject();
        NonZero(w, "major"u8, entry.Major);
        NonZero(w, "minor"u8, entry.Minor);
        JsonWrite.String(w, "op"u8, entry.Op);
        NonZero(w, "value"u8, entry.Value);
        w.WriteEndObject();
    }

    static void WriteBlkio(Utf8JsonWriter w, BlkioStats blkio)
    {
        w.WriteStartObject();
        JsonWrite.List(w, "ioServiceBytesRecursive"u8, blkio.IoServiceBytesRecursive, WriteBlkioEntry);
        JsonWrite.List(w, "ioServicedRecursive"u8, blkio.IoServicedRecursive, WriteBlkioEntry);
        JsonWrite.List(w, "ioQueueRecursive"u8, blkio.IoQueuedRecursive, WriteBlkioEntry);
        JsonWrite.List(w, "ioServiceTimeRecursive"u8, blkio.IoServiceTimeRecursive, WriteBlkioEntry);
        JsonWrite.List(w, "ioWaitTimeRecursive"u8, blkio.IoWaitTimeRecursive, WriteBlkioEntry);
        JsonWrite.List(w, "ioMergedRecursive"u8, blkio.IoMergedRecursive, WriteBlkioEntry);
        JsonWrite.List(w, "ioTimeRecursive"u8, blkio.IoTimeRecursive, WriteBlkioEntry);
        JsonWrite.List(w, "sectorsRecursive"u8, blkio.SectorsRecursive, WriteBlkioEntry);
        JsonWrite.Object(w, "psi"u8, blkio.Psi, WritePsi);
        w.WriteEndObject();
    }

    static void WriteHugetlb(Utf8JsonWriter w, HugetlbStats hugetlb)
    {
        w.WriteStartObject();
        NonZero(w, "usage"u8, hugetlb.Usage);
        NonZero(w, "max"u8, hugetlb.Max);
        w.WriteNumber("failcnt"u8, hugetlb.Failcnt);
        w.WriteEndObject();
    }

    // No JsonPropertyName on these: the serializer writes the C# names.
    static void WriteInterface(Utf8JsonWriter w, NetworkInterfaceStats i)
    {
        w.WriteStartObject();
        w.WriteString("Name"u8, i.Name);
        w.WriteNumber("RxBytes"u8, i.RxBytes);
        w.WriteNumber("RxPackets"u8, i.RxPackets);
        w.WriteNumber("RxErrors"u8, i.RxErrors);
        w.WriteNumber("RxDropped"u8, i.RxDropped);
        w.WriteNumber("TxBytes"u8, i.TxBytes);
        w.WriteNumber("TxPackets"u8, i.TxPackets);
        w.WriteNumber("TxErrors"u8, i.TxErrors);
        w.WriteNumber("TxDropped"u8, i.TxDropped);
        w.WriteEndObject();
    }
}
