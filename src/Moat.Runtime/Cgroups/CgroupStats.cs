using System.Globalization;
using System.Text;
using Moat.Oci.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// The container's cgroup statistics for <c>moat events --stats</c>, in the JSON shape of
/// <c>runc events --stats</c>, read from cgroup v1 files (cpuacct.*, cpu.stat, memory.*, blkio.*,
/// hugetlb.*, pids.*, cpuset.*) or v2 ones (cpu.stat, memory.current/max/peak/events/stat,
/// memory.swap.*, io.stat, hugetlb.*.current/events, pids.*, cpuset.*.effective, *.pressure).
/// A controller or file the host does not have leaves its numbers out (zero), as runc does; a file
/// that is there but cannot be parsed is an error naming it. Times are nanoseconds, sizes bytes.
/// </summary>
public sealed class CgroupStats
{
    [JsonPropertyName("cpu")] public CpuStats Cpu { get; set; } = new();
    [JsonPropertyName("cpuset")] public CpusetStats Cpuset { get; set; } = new();
    [JsonPropertyName("memory")] public MemoryStats Memory { get; set; } = new();
    [JsonPropertyName("pids")] public PidsStats Pids { get; set; } = new();
    [JsonPropertyName("blkio")] public BlkioStats Blkio { get; set; } = new();
    [JsonPropertyName("hugetlb")] public Dictionary<string, HugetlbStats> Hugetlb { get; set; } = [];
    [JsonPropertyName("intel_rdt")] public IntelRdtStats IntelRdt { get; set; } = new();
    /// <summary>Not read from cgroups (runc reads the container's /proc/PID/net/dev); null, as runc writes it without them.</summary>
    [JsonPropertyName("network_interfaces"), JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public List<NetworkInterfaceStats>? NetworkInterfaces { get; set; }

    /// <summary>USER_HZ: the unit of cpuacct.stat, 100 on every Linux architecture.</summary>
    const ulong ClockTicks = 100;

    /// <summary>The JSON runc writes for these statistics (the "data" of a stats event).</summary>
    public string ToJson() => Encoding.UTF8.GetString(SpecJson.ToUtf8Bytes(w => CgroupStatsJson.WriteStats(w, this)));

    /// <summary>One line of <c>events --stats</c>: {"type":"stats","id":ID,"data":{...}}.</summary>
    public string ToEventJson(string id) =>
        Encoding.UTF8.GetString(SpecJson.ToUtf8Bytes(w => CgroupStatsJson.WriteEvent(w, new StatsEvent { Id = id, Data = this })));

    /// <summary>Reads the statistics of a container's cgroup.</summary>
    public static CgroupStats Read(ContainerCgroup cgroup)
    {
        var stats = new CgroupStats();
        if (Locate(cgroup, "cpu") is { } cpu)
        {
            if (cpu.IsV2)
                stats.ReadCpuV2(cpu.Directory);
            else
                stats.ReadCpuThrottlingV1(cpu.Directory);
        }
        if (Locate(cgroup, "cpuacct") is { IsV2: false } cpuacct)
            stats.ReadCpuacctV1(cpuacct.Directory);
        if (Locate(cgroup, "cpuset") is { } cpuset)
            stats.ReadCpuset(cpuset.Directory, cpuset.IsV2);
        if (Locate(cgroup, "memory") is { } memory)
        {
            if (memory.IsV2)
                stats.ReadMemoryV2(memory.Directory);
            else
                stats.ReadMemoryV1(memory.Directory);
        }
        if (Locate(cgroup, "pids") is { } pids)
            stats.ReadPids(pids.Directory, pids.IsV2);
        if (Locate(cgroup, "blkio") is { } blkio)
        {
            if (blkio.IsV2)
                stats.ReadIoV2(blkio.Directory);
            else
                stats.ReadBlkioV1(blkio.Directory);
        }
        if (Locate(cgroup, "hugetlb") is { } hugetlb)
            stats.ReadHugetlb(hugetlb.Directory, hugetlb.IsV2);
        stats.Normalize();
        return stats;
    }

    /// <summary>
    /// The directory to read a controller's statistics from: where resources are written, or on a
    /// pure v2 host the container's directory anyway (cpu.stat is there without the cpu controller).
    /// </summary>
    static CgroupController? Locate(ContainerCgroup cgroup, string v1Name)
    {
        if (cgroup.Controller(v1Name) is { } c)
            return c;
        if (cgroup.Host.IsPureV2 && CgroupController.V2Name(v1Name) is { } v2Name && cgroup.UnifiedDirectory is { } dir)
            return new CgroupController(v2Name, dir, cgroup.Host.Unified!);
        return null;
    }

    /// <summary>Leaves out what runc leaves out: empty lists and all-zero objects.</summary>
    void Normalize()
    {
        static List<T>? NullIfEmpty<T>(List<T>? list) => list is { Count: > 0 } ? list : null;
        if (Cpu.Usage is { } usage)
        {
            usage.Percpu = NullIfEmpty(usage.Percpu);
            usage.PercpuKernel = NullIfEmpty(usage.PercpuKernel);
            usage.PercpuUser = NullIfEmpty(usage.PercpuUser);
            if (usage.IsZero)
                Cpu.Usage = null;
        }
        if (Cpu.Throttling is { IsZero: true })
            Cpu.Throttling = null;
        Cpuset.Cpus = NullIfEmpty(Cpuset.Cpus);
        Cpuset.Mems = NullIfEmpty(Cpuset.Mems);
        if (Memory.Usage is { IsZero: true })
            Memory.Usage = null;
        if (Memory.Swap is { IsZero: true })
            Memory.Swap = null;
        if (Memory.Kernel is { IsZero: true })
            Memory.Kernel = null;
        if (Memory.KernelTcp is { IsZero: true })
            Memory.KernelTcp = null;
        if (Memory.Raw is { Count: 0 })
            Memory.Raw = null;
        Blkio.IoServiceBytesRecursive = NullIfEmpty(Blkio.IoServiceBytesRecursive);
        Blkio.IoServicedRecursive = NullIfEmpty(Blkio.IoServicedRecursive);
        Blkio.IoQueuedRecursive = NullIfEmpty(Blkio.IoQueuedRecursive);
        Blkio.IoServiceTimeRecursive = NullIfEmpty(Blkio.IoServiceTimeRecursive);
        Blkio.IoWaitTimeRecursive = NullIfEmpty(Blkio.IoWaitTimeRecursive);
        Blkio.IoMergedRecursive = NullIfEmpty(Blkio.IoMergedRecursive);
        Blkio.IoTimeRecursive = NullIfEmpty(Blkio.IoTimeRecursive);
        Blkio.SectorsRecursive = NullIfEmpty(Blkio.SectorsRecursive);
    }

    // ---- cpu ----

    void ReadCpuV2(string dir)
    {
        var usage = Cpu.Usage!;
        var throttling = Cpu.Throttling!;
        foreach (var (key, value) in KeyValues(dir, "cpu.stat"))
        {
            switch (key)
            {
                case "usage_usec": usage.Total = value * 1000; break;
                case "user_usec": usage.User = value * 1000; break;
                case "system_usec": usage.Kernel = value * 1000; break;
                case "nr_periods": throttling.Periods = value; break;
                case "nr_throttled": throttling.ThrottledPeriods = value; break;
                case "throttled_usec": throttling.ThrottledTime = value * 1000; break;
            }
        }
        Cpu.Psi = ReadPsi(dir, "cpu.pressure");
    }

    void ReadCpuThrottlingV1(string dir)
    {
        var throttling = Cpu.Throttling!;
        foreach (var (key, value) in KeyValues(dir, "cpu.stat"))
        {
            switch (key)
            {
                case "nr_periods": throttling.Periods = value; break;
                case "nr_throttled": throttling.ThrottledPeriods = value; break;
                case "throttled_time": throttling.ThrottledTime = value; break; // already nanoseconds on v1
            }
        }
    }

    void ReadCpuacctV1(string dir)
    {
        var usage = Cpu.Usage!;
        usage.Total = Number(dir, "cpuacct.usage") ?? 0;
        if (Text(dir, "cpuacct.usage_percpu") is { } percpu)
            usage.Percpu = Numbers(percpu, Path.Combine(dir, "cpuacct.usage_percpu"));
        // cpuacct.usage_all: "cpu user system" then one line per cpu, in nanoseconds.
        if (Text(dir, "cpuacct.usage_all") is { } all)
        {
            var path = Path.Combine(dir, "cpuacct.usage_all");
            var lines = all.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (lines.Length == 0 || !lines[0].StartsWith("cpu user system", StringComparison.Ordinal))
                throw new RuntimeException($"malformed header in {path}: expected \"cpu user system\"");
            usage.PercpuUser = [];
            usage.PercpuKernel = [];
            foreach (var line in lines.Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 3)
                    throw new RuntimeException($"malformed line \"{line}\" in {path}");
                usage.PercpuUser.Add(CgroupFile.ParseUlong(fields[1], path));
                usage.PercpuKernel.Add(CgroupFile.ParseUlong(fields[2], path));
            }
        }
        // cpuacct.stat: "user TICKS\nsystem TICKS" in USER_HZ.
        foreach (var (key, value) in KeyValues(dir, "cpuacct.stat"))
        {
            if (key == "user")
                usage.User = value * (1_000_000_000 / ClockTicks);
            else if (key == "system")
                usage.Kernel = value * (1_000_000_000 / ClockTicks);
        }
    }

    // ---- cpuset ----

    void ReadCpuset(string dir, bool isV2)
    {
        var cpus = isV2 ? "cpuset.cpus.effective" : "cpuset.cpus";
        var mems = isV2 ? "cpuset.mems.effective" : "cpuset.mems";
        if (Text(dir, cpus) is { } cpuList)
            Cpuset.Cpus = CgroupFile.ParseList(cpuList, Path.Combine(dir, cpus));
        if (Text(dir, mems) is { } memList)
            Cpuset.Mems = CgroupFile.ParseList(memList, Path.Combine(dir, mems));
        if (isV2)
            return;
        Cpuset.CpuExclusive = Number(dir, "cpuset.cpu_exclusive") ?? 0;
        Cpuset.MemHardwall = Number(dir, "cpuset.mem_hardwall") ?? 0;
        Cpuset.MemExclusive = Number(dir, "cpuset.mem_exclusive") ?? 0;
        Cpuset.MemoryMigrate = Number(dir, "cpuset.memory_migrate") ?? 0;
        Cpuset.MemorySpreadPage = Number(dir, "cpuset.memory_spread_page") ?? 0;
        Cpuset.MemorySpreadSlab = Number(dir, "cpuset.memory_spread_slab") ?? 0;
        Cpuset.MemoryPressure = Number(dir, "cpuset.memory_pressure") ?? 0;
        Cpuset.SchedLoadBalance = Number(dir, "cpuset.sched_load_balance") ?? 0;
        if (Text(dir, "cpuset.sched_relax_domain_level") is { } level)
            Cpuset.SchedRelaxDomainLevel = long.TryParse(level.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)
                ? l : throw new RuntimeException($"cannot parse \"{level.Trim()}\" in {Path.Combine(dir, "cpuset.sched_relax_domain_level")} as a number");
    }

    // ---- memory ----

    void ReadMemoryV1(string dir)
    {
        Memory.Raw = ReadRaw(dir);
        Memory.Cache = Memory.Raw.GetValueOrDefault("cache");
        Memory.Usage = EntryV1(dir, "memory") ?? new MemoryEntry();
        Memory.Swap = EntryV1(dir, "memory.memsw"); // swap accounting may be off
        Memory.Kernel = EntryV1(dir, "memory.kmem");
        Memory.KernelTcp = EntryV1(dir, "memory.kmem.tcp");
    }

    static MemoryEntry? EntryV1(string dir, string prefix)
    {
        if (Number(dir, prefix + ".usage_in_bytes") is not { } usage)
            return null;
        return new MemoryEntry
        {
            Usage = usage,
            Max = Number(dir, prefix + ".max_usage_in_bytes") ?? 0,
            Failcnt = Number(dir, prefix + ".failcnt") ?? 0,
            Limit = Number(dir, prefix + ".limit_in_bytes") ?? 0, // kmem.limit_in_bytes is gone since Linux 6.1
        };
    }

    void ReadMemoryV2(string dir)
    {
        Memory.Raw = ReadRaw(dir);
        Memory.Cache = Memory.Raw.GetValueOrDefault("file");
        var usage = new MemoryEntry
        {
            Usage = Number(dir, "memory.current") ?? 0,
            Max = Number(dir, "memory.peak") ?? 0, // Linux 5.19
            Limit = Number(dir, "memory.max") ?? 0,
            Failcnt = Key(dir, "memory.events", "max") ?? 0, // times the usage hit memory.max
        };
        Memory.Usage = usage;
        // runc reports memory+swap, as v1's memsw.
        if (Number(dir, "memory.swap.current") is { } swapOnly)
        {
            var swapLimit = Number(dir, "memory.swap.max") ?? 0;
            Memory.Swap = new MemoryEntry
            {
                Usage = swapOnly + usage.Usage,
                Limit = swapLimit == ulong.MaxValue || usage.Limit == ulong.MaxValue ? ulong.MaxValue : swapLimit + usage.Limit,
                Failcnt = Key(dir, "memory.swap.events", "max") ?? 0,
            };
        }
        Memory.Psi = ReadPsi(dir, "memory.pressure");
    }

    static Dictionary<string, ulong> ReadRaw(string dir)
    {
        var raw = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var (key, value) in KeyValues(dir, "memory.stat"))
            raw[key] = value;
        return raw;
    }

    // ---- pids ----

    void ReadPids(string dir, bool isV2)
    {
        if (Number(dir, "pids.current") is { } current)
        {
            Pids.Current = current;
            var limit = Number(dir, "pids.max") ?? 0;
            Pids.Limit = limit == ulong.MaxValue ? 0 : limit;
        }
        else if (isV2 && Text(dir, "cgroup.procs") is { } procs)
            Pids.Current = (ulong)procs.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    // ---- block I/O ----

    /// <summary>
    /// The v1 statistics files, in runc's order of preference: BFQ with its debug files, BFQ, CFQ,
    /// then the throttling layer (recursive, then not). The first set whose first file exists is read.
    /// </summary>
    static readonly (string File, Func<BlkioStats, List<BlkioEntry>?> Get, Action<BlkioStats, List<BlkioEntry>> Put)[][] BlkioV1Sets =
    [
        [
            ("blkio.bfq.sectors_recursive", s => s.SectorsRecursive, (s, v) => s.SectorsRecursive = v),
            ("blkio.bfq.io_service_time_recursive", s => s.IoServiceTimeRecursive, (s, v) => s.IoServiceTimeRecursive = v),
            ("blkio.bfq.io_wait_time_recursive", s => s.IoWaitTimeRecursive, (s, v) => s.IoWaitTimeRecursive = v),
            ("blkio.bfq.io_merged_recursive", s => s.IoMergedRecursive, (s, v) => s.IoMergedRecursive = v),
            ("blkio.bfq.io_queued_recursive", s => s.IoQueuedRecursive, (s, v) => s.IoQueuedRecursive = v),
            ("blkio.bfq.time_recursive", s => s.IoTimeRecursive, (s, v) => s.IoTimeRecursive = v),
            ("blkio.bfq.io_serviced_recursive", s => s.IoServicedRecursive, (s, v) => s.IoServicedRecursive = v),
            ("blkio.bfq.io_service_bytes_recursive", s => s.IoServiceBytesRecursive, (s, v) => s.IoServiceBytesRecursive = v),
        ],
        [
            ("blkio.bfq.io_serviced_recursive", s => s.IoServicedRecursive, (s, v) => s.IoServicedRecursive = v),
            ("blkio.bfq.io_service_bytes_recursive", s => s.IoServiceBytesRecursive, (s, v) => s.IoServiceBytesRecursive = v),
        ],
        [
            ("blkio.sectors_recursive", s => s.SectorsRecursive, (s, v) => s.SectorsRecursive = v),
            ("blkio.io_service_time_recursive", s => s.IoServiceTimeRecursive, (s, v) => s.IoServiceTimeRecursive = v),
            ("blkio.io_wait_time_recursive", s => s.IoWaitTimeRecursive, (s, v) => s.IoWaitTimeRecursive = v),
            ("blkio.io_merged_recursive", s => s.IoMergedRecursive, (s, v) => s.IoMergedRecursive = v),
            ("blkio.io_queued_recursive", s => s.IoQueuedRecursive, (s, v) => s.IoQueuedRecursive = v),
            ("blkio.time_recursive", s => s.IoTimeRecursive, (s, v) => s.IoTimeRecursive = v),
            ("blkio.io_serviced_recursive", s => s.IoServicedRecursive, (s, v) => s.IoServicedRecursive = v),
            ("blkio.io_service_bytes_recursive", s => s.IoServiceBytesRecursive, (s, v) => s.IoServiceBytesRecursive = v),
        ],
        [
            ("blkio.throttle.io_serviced_recursive", s => s.IoServicedRecursive, (s, v) => s.IoServicedRecursive = v),
            ("blkio.throttle.io_service_bytes_recursive", s => s.IoServiceBytesRecursive, (s, v) => s.IoServiceBytesRecursive = v),
        ],
        [
            ("blkio.throttle.io_serviced", s => s.IoServicedRecursive, (s, v) => s.IoServicedRecursive = v),
            ("blkio.throttle.io_service_bytes", s => s.IoServiceBytesRecursive, (s, v) => s.IoServiceBytesRecursive = v),
        ],
    ];

    void ReadBlkioV1(string dir)
    {
        foreach (var set in BlkioV1Sets)
        {
            if (!File.Exists(Path.Combine(dir, set[0].File)))
                continue;
            foreach (var (file, _, put) in set)
                if (Text(dir, file) is { } text)
                    put(Blkio, ParseBlkioV1(text, Path.Combine(dir, file)));
            return;
        }
    }

    /// <summary>"8:0 Read 1234" lines (or "8:0 1234" for sectors and time); the "Total" line is skipped.</summary>
    static List<BlkioEntry> ParseBlkioV1(string text, string path)
    {
        var entries = new List<BlkioEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split([' ', ':'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 2 && fields[0] == "Total")
                continue;
            if (fields.Length is not (3 or 4))
                throw new RuntimeException($"malformed line \"{line}\" in {path}");
            entries.Add(new BlkioEntry
            {
                Major = CgroupFile.ParseUlong(fields[0], path),
                Minor = CgroupFile.ParseUlong(fields[1], path),
                Op = fields.Length == 4 ? fields[2] : null,
                Value = CgroupFile.ParseUlong(fields[^1], path),
            });
        }
        return entries;
    }

    /// <summary>io.stat: "8:0 rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per device.</summary>
    void ReadIoV2(string dir)
    {
        if (Text(dir, "io.stat") is { } text)
        {
            var path = Path.Combine(dir, "io.stat");
            var bytes = new List<BlkioEntry>();
            var serviced = new List<BlkioEntry>();
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var device = fields[0].Split(':');
                if (device.Length != 2)
                    throw new RuntimeException($"malformed line \"{line}\" in {path}");
                var major = CgroupFile.ParseUlong(device[0], path);
                var minor = CgroupFile.ParseUlong(device[1], path);
                foreach (var field in fields.Skip(1))
                {
                    var eq = field.IndexOf('=');
                    if (eq < 0)
                        continue;
                    var (list, op) = field[..eq] switch
                    {
                        "rbytes" => (bytes, "Read"),
                        "wbytes" => (bytes, "Write"),
                        "rios" => (serviced, "Read"),
                        "wios" => (serviced, "Write"),
                        _ => ((List<BlkioEntry>?)null, ""),
                    };
                    list?.Add(new BlkioEntry { Major = major, Minor = minor, Op = op, Value = CgroupFile.ParseUlong(field[(eq + 1)..], path) });
                }
            }
            Blkio.IoServiceBytesRecursive = bytes;
            Blkio.IoServicedRecursive = serviced;
        }
        Blkio.Psi = ReadPsi(dir, "io.pressure");
    }

    // ---- hugetlb ----

    void ReadHugetlb(string dir, bool isV2)
    {
        if (!Directory.Exists(dir))
            return;
        var limitSuffix = isV2 ? ".max" : ".limit_in_bytes";
        var sizes = Directory.EnumerateFiles(dir, "hugetlb.*" + limitSuffix)
            .Select(Path.GetFileName)
            .Select(name => name!["hugetlb.".Length..^limitSuffix.Length])
            .Where(size => !size.Contains('.'))
            .Order(StringComparer.Ordinal);
        foreach (var size in sizes)
        {
            var prefix = "hugetlb." + size;
            Hugetlb[size] = isV2
                ? new HugetlbStats
                {
                    Usage = Number(dir, prefix + ".current") ?? 0,
                    Failcnt = Key(dir, prefix + ".events", "max") ?? 0,
                }
                : new HugetlbStats
                {
                    Usage = Number(dir, prefix + ".usage_in_bytes") ?? 0,
                    Max = Number(dir, prefix + ".max_usage_in_bytes") ?? 0,
                    Failcnt = Number(dir, prefix + ".failcnt") ?? 0,
                };
        }
    }

    // ---- pressure ----

    /// <summary>"some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and the same for "full".</summary>
    static PsiStats? ReadPsi(string dir, string file)
    {
        if (Text(dir, file) is not { } text)
            return null;
        var path = Path.Combine(dir, file);
        var psi = new PsiStats();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var data = new PsiData();
            foreach (var field in fields.Skip(1))
            {
                var eq = field.IndexOf('=');
                if (eq < 0)
                    throw new RuntimeException($"malformed line \"{line}\" in {path}");
                var (key, value) = (field[..eq], field[(eq + 1)..]);
                if (key == "total")
                    data.Total = CgroupFile.ParseUlong(value, path);
                else if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var avg))
                    throw new RuntimeException($"malformed line \"{line}\" in {path}");
                else if (key == "avg10")
                    data.Avg10 = avg;
                else if (key == "avg60")
                    data.Avg60 = avg;
                else if (key == "avg300")
                    data.Avg300 = avg;
            }
            if (fields[0] == "some")
                psi.Some = data.IsZero ? null : data;
            else if (fields[0] == "full")
                psi.Full = data.IsZero ? null : data;
        }
        return psi;
    }

    // ---- file helpers ----

    static string? Text(string dir, string file) => CgroupFile.TryRead(Path.Combine(dir, file));

    static ulong? Number(string dir, string file) => CgroupFile.TryReadUlong(Path.Combine(dir, file));

    static ulong? Key(string dir, string file, string key) => CgroupFile.TryReadKey(Path.Combine(dir, file), key);

    static List<KeyValuePair<string, ulong>> KeyValues(string dir, string file) =>
        Text(dir, file) is { } text ? CgroupFile.ParseKeyValues(text, Path.Combine(dir, file)) : [];

    static List<ulong> Numbers(string text, string path) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(n => CgroupFile.ParseUlong(n, path)).ToList();
}
