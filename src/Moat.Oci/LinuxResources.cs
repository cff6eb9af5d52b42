using System.Text.Json.Serialization;

namespace Moat.Oci;

public sealed class LinuxResources
{
    [JsonPropertyName("devices")]
    public List<LinuxDeviceCgroup>? Devices { get; set; }

    [JsonPropertyName("memory")]
    public LinuxMemory? Memory { get; set; }

    [JsonPropertyName("cpu")]
    public LinuxCpu? Cpu { get; set; }

    [JsonPropertyName("pids")]
    public LinuxPids? Pids { get; set; }

    [JsonPropertyName("blockIO")]
    public LinuxBlockIo? BlockIo { get; set; }

    [JsonPropertyName("hugepageLimits")]
    public List<LinuxHugepageLimit>? HugepageLimits { get; set; }

    [JsonPropertyName("network")]
    public LinuxNetwork? Network { get; set; }

    /// <summary>Keyed by RDMA device name.</summary>
    [JsonPropertyName("rdma")]
    public Dictionary<string, LinuxRdma>? Rdma { get; set; }

    /// <summary>cgroup v2 interface files written verbatim (file name -> value).</summary>
    [JsonPropertyName("unified")]
    public Dictionary<string, string>? Unified { get; set; }
}

public sealed class LinuxDeviceCgroup
{
    [JsonPropertyName("allow")]
    public bool Allow { get; set; }

    /// <summary>a (all), c (character) or b (block); absent means all.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    /// <summary>Absent means any major number.</summary>
    [JsonPropertyName("major")]
    public long? Major { get; set; }

    /// <summary>Absent means any minor number.</summary>
    [JsonPropertyName("minor")]
    public long? Minor { get; set; }

    /// <summary>Any combination of r, w and m; absent means rwm.</summary>
    [JsonPropertyName("access")]
    public string? Access { get; set; }
}

public sealed class LinuxMemory
{
    /// <summary>Bytes; -1 means unlimited.</summary>
    [JsonPropertyName("limit")]
    public long? Limit { get; set; }

    [JsonPropertyName("reservation")]
    public long? Reservation { get; set; }

    /// <summary>Memory plus swap, in bytes; -1 means unlimited.</summary>
    [JsonPropertyName("swap")]
    public long? Swap { get; set; }

    /// <summary>Deprecated by the kernel (cgroup v1 kmem); ignored.</summary>
    [JsonPropertyName("kernel")]
    public long? Kernel { get; set; }

    [JsonPropertyName("kernelTCP")]
    public long? KernelTcp { get; set; }

    [JsonPropertyName("swappiness")]
    public ulong? Swappiness { get; set; }

    [JsonPropertyName("disableOOMKiller")]
    public bool? DisableOomKiller { get; set; }

    [JsonPropertyName("useHierarchy")]
    public bool? UseHierarchy { get; set; }

    [JsonPropertyName("checkBeforeUpdate")]
    public bool? CheckBeforeUpdate { get; set; }
}

public sealed class LinuxCpu
{
    [JsonPropertyName("shares")]
    public ulong? Shares { get; set; }

    /// <summary>Microseconds per period; -1 means unlimited.</summary>
    [JsonPropertyName("quota")]
    public long? Quota { get; set; }

    [JsonPropertyName("burst")]
    public ulong? Burst { get; set; }

    [JsonPropertyName("period")]
    public ulong? Period { get; set; }

    [JsonPropertyName("realtimeRuntime")]
    public long? RealtimeRuntime { get; set; }

    [JsonPropertyName("realtimePeriod")]
    public ulong? RealtimePeriod { get; set; }

    [JsonPropertyName("cpus")]
    public string? Cpus { get; set; }

    [JsonPropertyName("mems")]
    public string? Mems { get; set; }

    /// <summary>1 puts the cgroup under SCHED_IDLE (cgroup v2 cpu.idle).</summary>
    [JsonPropertyName("idle")]
    public long? Idle { get; set; }
}

public sealed class LinuxPids
{
    /// <summary>0 or negative means unlimited.</summary>
    [JsonPropertyName("limit")]
    public long Limit { get; set; }
}

public sealed class LinuxBlockIo
{
    [JsonPropertyName("weight")]
    public ushort? Weight { get; set; }

    [JsonPropertyName("leafWeight")]
    public ushort? LeafWeight { get; set; }

    [JsonPropertyName("weightDevice")]
    public List<LinuxWeightDevice>? WeightDevice { get; set; }

    [JsonPropertyName("throttleReadBpsDevice")]
    public List<LinuxThrottleDevice>? ThrottleReadBpsDevice { get; set; }

    [JsonPropertyName("throttleWriteBpsDevice")]
    public List<LinuxThrottleDevice>? ThrottleWriteBpsDevice { get; set; }

    [JsonPropertyName("throttleReadIOPSDevice")]
    public List<LinuxThrottleDevice>? ThrottleReadIopsDevice { get; set; }

    [JsonPropertyName("throttleWriteIOPSDevice")]
    public List<LinuxThrottleDevice>? ThrottleWriteIopsDevice { get; set; }
}

public sealed class LinuxWeightDevice
{
    [JsonPropertyName("major")]
    public long Major { get; set; }

    [JsonPropertyName("minor")]
    public long Minor { get; set; }

    [JsonPropertyName("weight")]
    public ushort? Weight { get; set; }

    [JsonPropertyName("leafWeight")]
    public ushort? LeafWeight { get; set; }
}

public sealed class LinuxThrottleDevice
{
    [JsonPropertyName("major")]
    public long Major { get; set; }

    [JsonPropertyName("minor")]
    public long Minor { get; set; }

    [JsonPropertyName("rate")]
    public ulong Rate { get; set; }
}

public sealed class LinuxHugepageLimit
{
    /// <summary>Like "2MB" or "1GB".</summary>
    [JsonPropertyName("pageSize")]
    public string PageSize { get; set; } = "";

    [JsonPropertyName("limit")]
    public ulong Limit { get; set; }
}

public sealed class LinuxNetwork
{
    [JsonPropertyName("classID")]
    public uint? ClassId { get; set; }

    [JsonPropertyName("priorities")]
    public List<LinuxInterfacePriority>? Priorities { get; set; }
}

public sealed class LinuxInterfacePriority
{
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("priority")]
    public uint Priority { get; set; }
}

public sealed class LinuxRdma
{
    [JsonPropertyName("hcaHandles")]
    public uint? HcaHandles { get; set; }

    [JsonPropertyName("hcaObjects")]
    public uint? HcaObjects { get; set; }
}
