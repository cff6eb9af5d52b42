using System.Globalization;
using Moat.Oci;

namespace Moat.Runtime.Lifecycle;

/// <summary>update's resource flags (runc's), as given on the command line; null when not given.</summary>
public sealed class UpdateFlags
{
    public string? Memory { get; init; }
    public string? MemoryReservation { get; init; }
    public string? MemorySwap { get; init; }
    public ulong? CpuPeriod { get; init; }
    public long? CpuQuota { get; init; }
    public ulong? CpuShare { get; init; }
    public ulong? CpuRtPeriod { get; init; }
    public long? CpuRtRuntime { get; init; }
    public string? CpusetCpus { get; init; }
    public string? CpusetMems { get; init; }
    public long? PidsLimit { get; init; }
    public ushort? BlkioWeight { get; init; }

    /// <summary>The linux.resources these flags set; the fields of flags not given stay null (an update leaves them as they are).</summary>
    public LinuxResources ToResources()
    {
        var changes = new LinuxResources();
        if (Memory is not null || MemoryReservation is not null || MemorySwap is not null)
            changes.Memory = new LinuxMemory
            {
                Limit = Size(Memory, "--memory"),
                Reservation = Size(MemoryReservation, "--memory-reservation"),
                Swap = Size(MemorySwap, "--memory-swap"),
            };
        if (CpuPeriod is not null || CpuQuota is not null || CpuShare is not null || CpuRtPeriod is not null ||
            CpuRtRuntime is not null || CpusetCpus is not null || CpusetMems is not null)
            changes.Cpu = new LinuxCpu
            {
                Period = CpuPeriod,
                Quota = CpuQuota,
                Shares = CpuShare,
                RealtimePeriod = CpuRtPeriod,
                RealtimeRuntime = CpuRtRuntime,
                Cpus = CpusetCpus,
                Mems = CpusetMems,
            };
        if (PidsLimit is { } pids)
            changes.Pids = new LinuxPids { Limit = pids };
        if (BlkioWeight is { } weight)
            changes.BlockIo = new LinuxBlockIo { Weight = weight };
        return changes;
    }

    /// <summary>Bytes as runc's --memory takes them: a number with an optional k, m, g or t (binary) suffix, or -1.</summary>
    public static long? Size(string? text, string flag)
    {
        if (text is null)
            return null;
        var t = text.Trim().ToLowerInvariant().TrimEnd('b');
        long multiplier = 1;
        if (t.Length > 0 && "kmgt".Contains(t[^1]))
        {
            multiplier = t[^1] switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, _ => 1L << 40 };
            t = t[..^1];
        }
        if (!long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < -1)
            throw new RuntimeException($"{flag} \"{text}\" is not a size (bytes, or a number with k, m, g or t)");
        return value == -1 ? -1 : value * multiplier;
    }
}
