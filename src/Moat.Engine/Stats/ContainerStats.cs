using System.Globalization;
using Moat.Engine.Store;
using Moat.Interop;

namespace Moat.Engine.Stats;

/// <summary>
/// One reading of a container's resource use (what `moat stats` shows): CPU as a percentage of one CPU,
/// memory in use and its limit, network bytes (null when the container shares the host's network
/// namespace, where the numbers would be the host's), block I/O bytes, and the number of processes.
/// </summary>
public sealed record ContainerStats
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    /// <summary>Total CPU time of the cgroup, nanoseconds.</summary>
    public ulong CpuNanoseconds { get; init; }
    /// <summary>When it was read (Stopwatch ticks): the base of the next reading's CPU percentage.</summary>
    public long SampledAt { get; init; }
    /// <summary>Percent of one CPU (200 = two CPUs busy), as docker prints it.</summary>
    public double CpuPercent { get; init; }
    /// <summary>Usage without the inactive file cache (docker's and podman's rule), bytes.</summary>
    public ulong MemoryUsage { get; init; }
    /// <summary>The cgroup's limit, or the host's memory when there is none.</summary>
    public ulong MemoryLimit { get; init; }
    public double MemoryPercent => MemoryLimit == 0 ? 0 : 100.0 * MemoryUsage / MemoryLimit;
    public ulong? NetworkReceived { get; init; }
    public ulong? NetworkSent { get; init; }
    public ulong BlockRead { get; init; }
    public ulong BlockWritten { get; init; }
    public ulong Pids { get; init; }
}

/// <summary>Reads <see cref="ContainerStats"/> from the container's cgroups (v1 or v2) and its init's /proc entries.</summary>
public sealed class ContainerStatsReader
{
    readonly CgroupLocator locator = new();
    readonly ulong hostMemory = HostMemory();
    readonly string? hostNetNamespace = NamespaceOf(1, "net");

    /// <summary>
    /// A reading of a running container; a stopped one reads as zeros. The CPU percentage is over the time since
    /// <paramref name="previous"/>, or, for a first reading, the average since the container started (podman's
    /// rule: a one-shot `stats --no-stream` then needs no second sample a second later).
    /// </summary>
    public ContainerStats Read(ContainerRecord record, ContainerStats? previous)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!record.IsRunning || record.Pid <= 0)
            return new ContainerStats { Id = record.Id, Name = record.Name, SampledAt = now };
        var pid = record.Pid;
        ulong cpu = 0, usage = 0, limit = hostMemory, read = 0, written = 0, pids = 0;
        if (locator.Find(pid, "cpuacct") is { } cpuacct)
            cpu = cpuacct.IsV2 ? (cpuacct.Field("cpu.stat", "usage_usec") ?? 0) * 1000 : cpuacct.Number("cpuacct.usage") ?? 0;
        if (locator.Find(pid, "memory") is { } memory)
        {
            var current = memory.IsV2 ? memory.Number("memory.current") : memory.Number("memory.usage_in_bytes");
            var inactive = memory.IsV2 ? memory.Field("memory.stat", "inactive_file") : memory.Field("memory.stat", "total_inactive_file");
            usage = current is { } c ? c - Math.Min(c, inactive ?? 0) : 0;
            // v1 writes a huge number for "no limit", v2 "max" (no number): both mean the host's memory.
            if ((memory.IsV2 ? memory.Number("memory.max") : memory.Number("memory.limit_in_bytes")) is { } l && l < hostMemory)
                limit = l;
        }
        if (locator.Find(pid, "pids") is { } pidsGroup)
            pids = pidsGroup.Number("pids.current") ?? 0;
        if (locator.Find(pid, "blkio") is { } io)
            (read, written) = io.IsV2 ? IoV2(io) : BlkioV1(io);
        var (received, sent) = Network(pid);
        double percent;
        if (previous is not null && previous.SampledAt < now && previous.CpuNanoseconds <= cpu)
            percent = 100.0 * (cpu - previous.CpuNanoseconds) / (System.Diagnostics.Stopwatch.GetElapsedTime(previous.SampledAt, now).TotalSeconds * 1e9);
        else if (record.StartedAt is { } started && DateTimeOffset.UtcNow - started is { TotalSeconds: > 0 } ran)
            percent = 100.0 * cpu / (ran.TotalSeconds * 1e9);
        else
            percent = 0;
        return new ContainerStats
        {
            Id = record.Id, Name = record.Name, CpuNanoseconds = cpu, SampledAt = now, CpuPercent = percent,
            MemoryUsage = usage, MemoryLimit = limit, NetworkReceived = received, NetworkSent = sent,
            BlockRead = read, BlockWritten = written, Pids = pids,
        };
    }

    /// <summary>blkio.throttle.io_service_bytes_recursive (the one v1 file kept for every scheduler): `MAJ:MIN Read N` lines.</summary>
    static (ulong Read, ulong Written) BlkioV1(CgroupDirectory io)
    {
        var text = io.Read("blkio.throttle.io_service_bytes_recursive") ?? io.Read("blkio.io_service_bytes_recursive") ?? "";
        ulong read = 0, written = 0;
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ');
            if (parts.Length != 3 || !ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) continue;
            if (parts[1] == "Read") read += n;
            else if (parts[1] == "Write") written += n;
        }
        return (read, written);
    }

    /// <summary>io.stat: `MAJ:MIN rbytes=N wbytes=N rios=N ...` lines.</summary>
    static (ulong Read, ulong Written) IoV2(CgroupDirectory io)
    {
        ulong read = 0, written = 0;
        foreach (var line in (io.Read("io.stat") ?? "").Split('\n'))
            foreach (var field in line.Split(' '))
            {
                var eq = field.IndexOf('=');
                if (eq < 0 || !ulong.TryParse(field.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) continue;
                if (field.StartsWith("rbytes=", StringComparison.Ordinal)) read += n;
                else if (field.StartsWith("wbytes=", StringComparison.Ordinal)) written += n;
            }
        return (read, written);
    }

    /// <summary>Bytes received and sent on every interface but lo of the init's network namespace; null in the host's namespace.</summary>
    (ulong? Received, ulong? Sent) Network(int pid)
    {
        var own = NamespaceOf(pid, "net");
        if (own is null || own == hostNetNamespace)
            return (null, null);
        ulong received = 0, sent = 0;
        // /proc/PID/net/dev is the device list of that process's network namespace.
        foreach (var line in (Libc.TryReadText($"/proc/{pid}/net/dev") ?? "").Split('\n').Skip(2))
        {
            var colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim() == "lo") continue;
            var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 9) continue;
            received += ulong.Parse(fields[0], CultureInfo.InvariantCulture);
            sent += ulong.Parse(fields[8], CultureInfo.InvariantCulture);
        }
        return (received, sent);
    }

    static string? NamespaceOf(int pid, string kind)
    {
        try
        {
            return new FileInfo($"/proc/{pid}/ns/{kind}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    static ulong HostMemory()
    {
        foreach (var line in (Libc.TryReadText("/proc/meminfo") ?? "").Split('\n'))
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal)
                && ulong.TryParse(line[9..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
                return kb * 1024;
        return 0;
    }
}
