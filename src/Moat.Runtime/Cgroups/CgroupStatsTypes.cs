using System.Text.Json.Serialization;

namespace Moat.Runtime.Cgroups;

// The JSON shape of `runc events --stats` (runc's types/events.go): the same names, and the same
// fields left out when empty (Go's omitempty/omitzero), so tools that read runc's output read moat's.
// Nested objects that Go leaves out when zero are null here; CgroupStats.Read sets them so.

/// <summary>One line of <c>moat events</c>: {"type":"stats","id":ID,"data":{...}}.</summary>
public sealed class StatsEvent
{
    [JsonPropertyName("type")] public string Type { get; set; } = "stats";
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("data")] public CgroupStats? Data { get; set; }
}

public sealed class CpuUsageStats
{
    /// <summary>Nanoseconds.</summary>
    [JsonPropertyName("total"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Total { get; set; }
    [JsonPropertyName("percpu")] public List<ulong>? Percpu { get; set; }
    [JsonPropertyName("percpu_kernel")] public List<ulong>? PercpuKernel { get; set; }
    [JsonPropertyName("percpu_user")] public List<ulong>? PercpuUser { get; set; }
    [JsonPropertyName("kernel")] public ulong Kernel { get; set; }
    [JsonPropertyName("user")] public ulong User { get; set; }

    internal bool IsZero => Total == 0 && Percpu is null && PercpuKernel is null && PercpuUser is null && Kernel == 0 && User == 0;
}

public sealed class ThrottlingStats
{
    [JsonPropertyName("periods"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Periods { get; set; }
    [JsonPropertyName("throttledPeriods"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong ThrottledPeriods { get; set; }
    /// <summary>Nanoseconds.</summary>
    [JsonPropertyName("throttledTime"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong ThrottledTime { get; set; }

    internal bool IsZero => Periods == 0 && ThrottledPeriods == 0 && ThrottledTime == 0;
}

public sealed class PsiData
{
    [JsonPropertyName("avg10")] public double Avg10 { get; set; }
    [JsonPropertyName("avg60")] public double Avg60 { get; set; }
    [JsonPropertyName("avg300")] public double Avg300 { get; set; }
    [JsonPropertyName("total")] public ulong Total { get; set; }

    internal bool IsZero => Avg10 == 0 && Avg60 == 0 && Avg300 == 0 && Total == 0;
}

/// <summary>Pressure stall information (cpu.pressure, memory.pressure, io.pressure; cgroup v2).</summary>
public sealed class PsiStats
{
    [JsonPropertyName("some")] public PsiData? Some { get; set; }
    [JsonPropertyName("full")] public PsiData? Full { get; set; }
}

public sealed class CpuStats
{
    [JsonPropertyName("usage")] public CpuUsageStats? Usage { get; set; } = new();
    [JsonPropertyName("throttling")] public ThrottlingStats? Throttling { get; set; } = new();
    [JsonPropertyName("psi")] public PsiStats? Psi { get; set; }
}

public sealed class CpusetStats
{
    [JsonPropertyName("cpus")] public List<ushort>? Cpus { get; set; }
    [JsonPropertyName("cpu_exclusive")] public ulong CpuExclusive { get; set; }
    [JsonPropertyName("mems")] public List<ushort>? Mems { get; set; }
    [JsonPropertyName("mem_hardwall")] public ulong MemHardwall { get; set; }
    [JsonPropertyName("mem_exclusive")] public ulong MemExclusive { get; set; }
    [JsonPropertyName("memory_migrate")] public ulong MemoryMigrate { get; set; }
    [JsonPropertyName("memory_spread_page")] public ulong MemorySpreadPage { get; set; }
    [JsonPropertyName("memory_spread_slab")] public ulong MemorySpreadSlab { get; set; }
    [JsonPropertyName("memory_pressure")] public ulong MemoryPressure { get; set; }
    [JsonPropertyName("sched_load_balance")] public ulong SchedLoadBalance { get; set; }
    [JsonPropertyName("sched_relax_domain_level")] public long SchedRelaxDomainLevel { get; set; }
}

/// <summary>Bytes: usage, peak (max), limit, and how many times the limit was hit (failcnt).</summary>
public sealed class MemoryEntry
{
    [JsonPropertyName("limit")] public ulong Limit { get; set; }
    [JsonPropertyName("usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Usage { get; set; }
    [JsonPropertyName("max"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Max { get; set; }
    [JsonPropertyName("failcnt")] public ulong Failcnt { get; set; }

    internal bool IsZero => Limit == 0 && Usage == 0 && Max == 0 && Failcnt == 0;
}

public sealed class MemoryStats
{
    [JsonPropertyName("cache"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Cache { get; set; }
    [JsonPropertyName("usage")] public MemoryEntry? Usage { get; set; } = new();
    /// <summary>Memory plus swap (v1 memsw; on v2 the sum of both), as runc reports it.</summary>
    [JsonPropertyName("swap")] public MemoryEntry? Swap { get; set; } = new();
    [JsonPropertyName("kernel")] public MemoryEntry? Kernel { get; set; } = new();
    [JsonPropertyName("kernelTCP")] public MemoryEntry? KernelTcp { get; set; } = new();
    /// <summary>memory.stat, key by key.</summary>
    [JsonPropertyName("raw")] public Dictionary<string, ulong>? Raw { get; set; }
    [JsonPropertyName("psi")] public PsiStats? Psi { get; set; }
}

public sealed class PidsStats
{
    [JsonPropertyName("current"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Current { get; set; }
    /// <summary>0 when unlimited ("max"), as runc reports it.</summary>
    [JsonPropertyName("limit"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Limit { get; set; }
}

public sealed class BlkioEntry
{
    [JsonPropertyName("major"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Major { get; set; }
    [JsonPropertyName("minor"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Minor { get; set; }
    [JsonPropertyName("op"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public string? Op { get; set; }
    [JsonPropertyName("value"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Value { get; set; }
}

public sealed class BlkioStats
{
    [JsonPropertyName("ioServiceBytesRecursive")] public List<BlkioEntry>? IoServiceBytesRecursive { get; set; }
    [JsonPropertyName("ioServicedRecursive")] public List<BlkioEntry>? IoServicedRecursive { get; set; }
    [JsonPropertyName("ioQueueRecursive")] public List<BlkioEntry>? IoQueuedRecursive { get; set; }
    [JsonPropertyName("ioServiceTimeRecursive")] public List<BlkioEntry>? IoServiceTimeRecursive { get; set; }
    [JsonPropertyName("ioWaitTimeRecursive")] public List<BlkioEntry>? IoWaitTimeRecursive { get; set; }
    [JsonPropertyName("ioMergedRecursive")] public List<BlkioEntry>? IoMergedRecursive { get; set; }
    [JsonPropertyName("ioTimeRecursive")] public List<BlkioEntry>? IoTimeRecursive { get; set; }
    [JsonPropertyName("sectorsRecursive")] public List<BlkioEntry>? SectorsRecursive { get; set; }
    [JsonPropertyName("psi")] public PsiStats? Psi { get; set; }
}

public sealed class HugetlbStats
{
    [JsonPropertyName("usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Usage { get; set; }
    [JsonPropertyName("max"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Max { get; set; }
    [JsonPropertyName("failcnt")] public ulong Failcnt { get; set; }
}

/// <summary>Intel RDT (resctrl) is not a cgroup; runc always writes the object, empty without it.</summary>
public sealed class IntelRdtStats;

public sealed class NetworkInterfaceStats
{
    public string Name { get; set; } = "";
    public ulong RxBytes { get; set; }
    public ulong RxPackets { get; set; }
    public ulong RxErrors { get; set; }
    public ulong RxDropped { get; set; }
    public ulong TxBytes { get; set; }
    public ulong TxPackets { get; set; }
    public ulong TxErrors { get; set; }
    public ulong TxDropped { get; set; }
}

// Not used by the runtime (CgroupStatsJson writes these by hand, with the same bytes); the reference
// the hand-written writer is tested against.
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StatsEvent))]
[JsonSerializable(typeof(CgroupStats))]
public partial class CgroupStatsJsonContext : JsonSerializerContext;
