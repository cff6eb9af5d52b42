using Moat.Oci;
using Moat.Runtime.Cgroups;

namespace Moat.Tests.Unit.Cgroups;

/// <summary>
/// A cgroupfs made of plain files in a temporary directory, with the mountinfo text that points a
/// <see cref="CgroupHost"/> at it. The container's directories exist already with the files the
/// kernel would show (so <see cref="ContainerCgroup.Create"/> finds them), holding the kernel's
/// defaults; tests change files to stage a host, and read them (or <see cref="Writes"/>) back.
/// </summary>
internal sealed class FakeCgroupFs : IDisposable
{
    public const string ContainerPath = "/moat/c1";

    /// <summary>What cgroup v2 offers on a typical host, in the kernel's order.</summary>
    public const string AllV2Controllers = "cpuset cpu io memory hugetlb pids rdma misc";

    FakeCgroupFs(string kind)
    {
        Root = Path.Combine(Path.GetTempPath(), $"moat-cgroupfs-{kind}-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }
    public string Mountinfo { get; private set; } = "";
    public List<(string Path, string Value)> Writes { get; } = [];
    public List<string> Warnings { get; } = [];

    readonly Dictionary<string, string> mounts = new(StringComparer.Ordinal);

    /// <summary>The directory of a mount (a v1 controller list such as "cpu,cpuacct", or "unified").</summary>
    public string Mount(string name) => mounts[name];

    /// <summary>The container's directory in a mount.</summary>
    public string Dir(string mount) => mounts[mount] + ContainerPath;

    public string File(string mount, string file) => Path.Combine(Dir(mount), file);

    public string Read(string mount, string file) => System.IO.File.ReadAllText(File(mount, file));

    public void Set(string mount, string file, string content) => System.IO.File.WriteAllText(File(mount, file), content);

    public void Remove(string mount, string file)
    {
        System.IO.File.Delete(File(mount, file));
        // The ancestors have it too (Validate judges by the deepest existing directory).
        var dir = Path.GetDirectoryName(Dir(mount))!;
        while (dir.Length >= mounts[mount].Length)
        {
            System.IO.File.Delete(Path.Combine(dir, file));
            dir = Path.GetDirectoryName(dir)!;
        }
    }

    /// <summary>Makes a file fail every write with ENOSPC (a link to /dev/full).</summary>
    public void MakeUnwritable(string mount, string file)
    {
        System.IO.File.Delete(File(mount, file));
        System.IO.File.CreateSymbolicLink(File(mount, file), "/dev/full");
    }

    public CgroupHost Host => new(CgroupHierarchy.Parse(Mountinfo));

    public ContainerCgroup Cgroup() => ContainerCgroup.For(Host, ContainerPath);

    public ResourceWriter Writer() => new(Cgroup())
    {
        OnWrite = (path, value) => Writes.Add((path, value)),
        Warn = Warnings.Add,
    };

    /// <summary>The values written to one file of the container, in order.</summary>
    public List<string> WritesTo(string mount, string file) =>
        Writes.Where(w => w.Path == File(mount, file)).Select(w => w.Value).ToList();

    /// <summary>The file names written in one mount, in order (a file written twice appears twice).</summary>
    public List<string> WrittenFiles(string mount) =>
        Writes.Where(w => Path.GetDirectoryName(w.Path) == Dir(mount)).Select(w => Path.GetFileName(w.Path)).ToList();

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    // ---- v1 ----

    /// <summary>
    /// A v1 host: cpu,cpuacct cpuset memory devices freezer pids blkio hugetlb net_cls,net_prio rdma,
    /// each minus the controllers in <paramref name="without"/>, and an optional unified mount
    /// offering <paramref name="unifiedControllers"/> (a hybrid host).
    /// </summary>
    public static FakeCgroupFs V1(string? unifiedControllers = null, params string[] without)
    {
        var fs = new FakeCgroupFs("v1");
        var lines = new List<string>
        {
            "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
            $"31 22 0:28 / {fs.Root} rw,relatime - tmpfs tmpfs rw,mode=755",
        };
        var id = 32;
        foreach (var (name, files) in V1Files)
        {
            if (without.Contains(name))
                continue;
            var mount = Path.Combine(fs.Root, name);
            fs.mounts[name] = mount;
            lines.Add($"{id++} 31 0:{id} / {mount} rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,{name}");
            // The root and /moat get the files too (the kernel shows most of them at every level).
            foreach (var dir in new[] { mount, mount + "/moat", mount + ContainerPath })
            {
                Directory.CreateDirectory(dir);
                foreach (var (file, content) in files)
                    System.IO.File.WriteAllText(Path.Combine(dir, file), content);
                System.IO.File.WriteAllText(Path.Combine(dir, "cgroup.procs"), "");
            }
        }
        if (unifiedControllers is not null)
        {
            var mount = Path.Combine(fs.Root, "unified");
            fs.mounts["unified"] = mount;
            lines.Add($"{id} 31 0:{id} / {mount} rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw");
            CreateV2Tree(mount, unifiedControllers);
        }
        fs.Mountinfo = string.Join('\n', lines) + "\n";
        return fs;
    }

    static readonly (string Name, (string File, string Content)[] Files)[] V1Files =
    [
        ("cpu,cpuacct", [
            ("cpu.shares", "1024\n"), ("cpu.cfs_period_us", "100000\n"), ("cpu.cfs_quota_us", "-1\n"), ("cpu.cfs_burst_us", "0\n"),
            ("cpu.rt_period_us", "1000000\n"), ("cpu.rt_runtime_us", "0\n"), ("cpu.idle", "0\n"),
            ("cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n"),
            ("cpuacct.usage", "0\n"), ("cpuacct.usage_percpu", "0 0 \n"), ("cpuacct.stat", "user 0\nsystem 0\n"),
            ("cpuacct.usage_all", "cpu user system\n0 0 0\n1 0 0\n"),
        ]),
        ("cpuset", [
            ("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n"), ("cpuset.cpu_exclusive", "0\n"), ("cpuset.mem_exclusive", "0\n"),
            ("cpuset.mem_hardwall", "0\n"), ("cpuset.memory_migrate", "0\n"), ("cpuset.memory_pressure", "0\n"),
            ("cpuset.memory_spread_page", "0\n"), ("cpuset.memory_spread_slab", "0\n"), ("cpuset.sched_load_balance", "1\n"),
            ("cpuset.sched_relax_domain_level", "-1\n"),
        ]),
        ("memory", [
            ("memory.limit_in_bytes", "9223372036854771712\n"), ("memory.memsw.limit_in_bytes", "9223372036854771712\n"),
            ("memory.soft_limit_in_bytes", "9223372036854771712\n"), ("memory.kmem.tcp.limit_in_bytes", "9223372036854771712\n"),
            ("memory.swappiness", "60\n"), ("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"),
            ("memory.use_hierarchy", "1\n"), ("memory.usage_in_bytes", "0\n"), ("memory.max_usage_in_bytes", "0\n"),
            ("memory.failcnt", "0\n"), ("memory.stat", "cache 0\nrss 0\n"),
        ]),
        ("devices", [("devices.allow", ""), ("devices.deny", ""), ("devices.list", "a *:* rwm\n")]),
        ("freezer", [("freezer.state", "THAWED\n")]),
        ("pids", [("pids.max", "max\n"), ("pids.current", "0\n")]),
        ("blkio", [
            ("blkio.bfq.weight", "100\n"), ("blkio.bfq.weight_device", ""),
            ("blkio.throttle.read_bps_device", ""), ("blkio.throttle.write_bps_device", ""),
            ("blkio.throttle.read_iops_device", ""), ("blkio.throttle.write_iops_device", ""),
            ("blkio.throttle.io_service_bytes", "Total 0\n"), ("blkio.throttle.io_serviced", "Total 0\n"),
        ]),
        ("hugetlb", [
            ("hugetlb.2MB.limit_in_bytes", "9223372036854771712\n"), ("hugetlb.1GB.limit_in_bytes", "9223372036854771712\n"),
            ("hugetlb.2MB.rsvd.limit_in_bytes", "9223372036854771712\n"), ("hugetlb.1GB.rsvd.limit_in_bytes", "9223372036854771712\n"),
            ("hugetlb.2MB.usage_in_bytes", "0\n"), ("hugetlb.2MB.max_usage_in_bytes", "0\n"), ("hugetlb.2MB.failcnt", "0\n"),
            ("hugetlb.1GB.usage_in_bytes", "0\n"), ("hugetlb.1GB.max_usage_in_bytes", "0\n"), ("hugetlb.1GB.failcnt", "0\n"),
        ]),
        ("net_cls,net_prio", [("net_cls.classid", "0\n"), ("net_prio.ifpriomap", "lo 0\neth0 0\n"), ("net_prio.prioidx", "1\n")]),
        ("rdma", [("rdma.max", ""), ("rdma.current", "")]),
    ];

    // ---- v2 ----

    /// <summary>A pure v2 host whose top offers <paramref name="controllers"/>.</summary>
    public static FakeCgroupFs V2(string controllers = AllV2Controllers)
    {
        var fs = new FakeCgroupFs("v2");
        var mount = Path.Combine(fs.Root, "unified");
        fs.mounts["unified"] = mount;
        fs.Mountinfo = $"""
            22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
            30 22 0:26 / {mount} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot

            """;
        CreateV2Tree(mount, controllers);
        return fs;
    }

    /// <summary>The top, /moat and /moat/c1 with cgroup.controllers and cgroup.subtree_control; the container's interface files.</summary>
    static void CreateV2Tree(string mount, string controllers)
    {
        var offered = controllers.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var dir in new[] { mount, mount + "/moat", mount + ContainerPath })
        {
            Directory.CreateDirectory(dir);
            System.IO.File.WriteAllText(Path.Combine(dir, "cgroup.controllers"), controllers + "\n");
            System.IO.File.WriteAllText(Path.Combine(dir, "cgroup.subtree_control"), "\n");
            System.IO.File.WriteAllText(Path.Combine(dir, "cgroup.procs"), "");
            System.IO.File.WriteAllText(Path.Combine(dir, "cgroup.max.depth"), "max\n");
        }
        var container = mount + ContainerPath;
        foreach (var (controller, files) in V2Files)
        {
            if (!offered.Contains(controller))
                continue;
            foreach (var (file, content) in files)
                System.IO.File.WriteAllText(Path.Combine(container, file), content);
        }
        System.IO.File.WriteAllText(Path.Combine(container, "cpu.stat"), "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
    }

    static readonly (string Controller, (string File, string Content)[] Files)[] V2Files =
    [
        ("cpu", [("cpu.weight", "100\n"), ("cpu.max", "max 100000\n"), ("cpu.max.burst", "0\n"), ("cpu.idle", "0\n"),
                 ("cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n"),
                 ("cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")]),
        ("cpuset", [("cpuset.cpus", "\n"), ("cpuset.mems", "\n"), ("cpuset.cpus.effective", "0-1\n"), ("cpuset.mems.effective", "0\n")]),
        ("memory", [("memory.max", "max\n"), ("memory.low", "0\n"), ("memory.high", "max\n"), ("memory.swap.max", "max\n"),
                    ("memory.current", "0\n"), ("memory.peak", "0\n"), ("memory.swap.current", "0\n"),
                    ("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"),
                    ("memory.stat", "anon 0\nfile 0\n")]),
        ("io", [("io.weight", "default 100\n"), ("io.max", ""), ("io.stat", "")]),
        ("hugetlb", [("hugetlb.2MB.max", "max\n"), ("hugetlb.1GB.max", "max\n"), ("hugetlb.2MB.rsvd.max", "max\n"), ("hugetlb.1GB.rsvd.max", "max\n"),
                     ("hugetlb.2MB.current", "0\n"), ("hugetlb.1GB.current", "0\n"),
                     ("hugetlb.2MB.events", "max 0\n"), ("hugetlb.1GB.events", "max 0\n")]),
        ("pids", [("pids.max", "max\n"), ("pids.current", "0\n")]),
        ("rdma", [("rdma.max", ""), ("rdma.current", "")]),
    ];

    public static LinuxResources Resources(Action<LinuxResources> set)
    {
        var r = new LinuxResources();
        set(r);
        return r;
    }
}
