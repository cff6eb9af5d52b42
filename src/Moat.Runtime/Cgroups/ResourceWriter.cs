using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// Writes linux.resources into the container's cgroup files, on cgroup v1 and v2, with the file
/// names and value formats of the kernel's cgroup-v1 and cgroup-v2 documentation. Each controller is
/// found where the host has it (<see cref="ContainerCgroup.Controller(string, out string)"/>): a v1
/// hierarchy, or the unified one, so a hybrid host whose hugetlb controller lives only in its cgroup2
/// mount gets hugetlb.&lt;size&gt;.max there.
///
/// Nothing is ever dropped silently: a field the host cannot honour (no controller, no file, no v2
/// equivalent) is an error naming the field and what is missing. <see cref="Validate"/> finds as much
/// as it can by reading only (values, controllers, and the files of the deepest existing ancestor
/// directory), so that errors come before anything is created. <see cref="Apply"/> (create) and
/// <see cref="Update"/> (a running container) then write, in an order that never fails transiently.
///
/// Device rules are written to devices.allow/deny on v1, and compiled into an eBPF program
/// attached to the container's cgroup on v2 (<see cref="DeviceProgram"/>).
///
/// As runc does, a 0 for memory limit/reservation/swap, cpu shares/quota/period and the realtime
/// values means "not set"; memory.kernel is ignored with a warning (Linux deprecated kernel memory
/// limits), and so is memory.swappiness on cgroup v2 (no per-cgroup swappiness there).
/// </summary>
public sealed partial class ResourceWriter(ContainerCgroup cgroup)
{
    /// <summary>The device rules runc and crun add after the config's: what a container needs in /dev.</summary>
    public static readonly IReadOnlyList<string> DefaultAllowedDevices =
    [
        "c *:* m", "b *:* m",
        "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", // null zero full random urandom
        "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", // tty console ptmx
        "c 136:* rwm", // pty slaves
        "c 10:200 rwm", // net/tun
    ];

    /// <summary>Told every successful write: the file's path and the value (also cgroup.subtree_control requests).</summary>
    public Action<string, string>? OnWrite { get; init; }

    /// <summary>Where warnings go (fields that are accepted and ignored); stderr by default (write(2), not Console: see CommandContext.Err).</summary>
    public Action<string> Warn { get; init; } = warning =>
    {
        try
        {
            Libc.WriteAll(2, System.Text.Encoding.UTF8.GetBytes($"moat: warning: {warning}\n"), "stderr");
        }
        catch (SyscallException)
        {
        }
    };

    /// <summary>Attaches a compiled device program to a cgroup v2 directory; tests replace the kernel here.</summary>
    internal Action<string, byte[]>? DeviceProgramAttacher { get; init; }

    readonly ContainerCgroup cgroup = cgroup;
    LinuxResources? validated;

    /// <summary>Refuses, before anything is created, every field this writer cannot honour on this host. Reads only.</summary>
    public void Validate(LinuxResources? resources)
    {
        if (resources is null)
            return;
        new Pass(this, resources, update: false, write: false, warn: true).Run();
        validated = resources;
    }

    /// <summary>Writes the resources of a container being created (after <see cref="ContainerCgroup.Create"/>).</summary>
    public void Apply(LinuxResources? resources)
    {
        if (resources is null)
            return;
        Write(resources, update: false, warn: !ReferenceEquals(resources, validated));
    }

    /// <summary>
    /// Changes the limits of a running container (<c>moat update</c>): the fields that are set are
    /// written, the others are left as they are. The writes are those of <see cref="Apply"/>, plus
    /// memory.checkBeforeUpdate on v2 (<see cref="CheckMemoryBeforeUpdate"/>). Unlike create, a cpu
    /// quota without a period keeps the current period, and a period without a quota the current
    /// quota. Device rules cannot be changed this way.
    /// </summary>
    public void Update(LinuxResources resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        Write(resources, update: true, warn: true);
    }

    /// <summary>
    /// memory.checkBeforeUpdate: on cgroup v2 the kernel takes a memory.max below the current usage
    /// and OOM-kills the container to reach it; with checkBeforeUpdate the update is refused instead
    /// when the new limit (or memory+swap limit) is not above memory.current, as runc does. On v1 the
    /// kernel itself refuses such a limit (EBUSY), so there is nothing to check. Best effort: an
    /// unreadable memory.current lets the update go on.
    /// </summary>
    public void CheckMemoryBeforeUpdate(LinuxMemory? memory)
    {
        if (memory is not { CheckBeforeUpdate: true })
            return;
        if (memory.Limit is not > 0 && memory.Swap is not > 0)
            return;
        if (cgroup.Controller("memory") is not { IsV2: true } c)
            return;
        if (CgroupFile.TryReadUlong(c.PathOf("memory.current")) is not { } usage)
            return;
        if (memory.Swap is > 0 and var swap && (ulong)swap <= usage)
            throw new RuntimeException($"linux.resources.memory.swap ({swap}) is not above the container's current memory usage ({usage}, {c.PathOf("memory.current")}), and memory.checkBeforeUpdate is set: update refused");
        if (memory.Limit is > 0 and var limit && (ulong)limit <= usage)
            throw new RuntimeException($"linux.resources.memory.limit ({limit}) is not above the container's current memory usage ({usage}, {c.PathOf("memory.current")}), and memory.checkBeforeUpdate is set: update refused");
    }

    void Write(LinuxResources resources, bool update, bool warn)
    {
        var check = new Pass(this, resources, update, write: false, warn);
        check.Run();
        if (update)
            CheckMemoryBeforeUpdate(resources.Memory);
        if (check.V2Controllers.Count > 0)
        {
            try
            {
                cgroup.EnableControllers(check.V2Controllers.Keys, onWrite: OnWrite);
            }
            catch (CgroupControllerException e)
            {
                throw new RuntimeException($"linux.resources.{check.V2Controllers.GetValueOrDefault(e.Controller, e.Controller)}: {e.Message}", e);
            }
        }
        new Pass(this, resources, update, write: true, warn: false).Run();
    }

    /// <summary>The conversion runc and crun share: shares 2..262144 onto weight 1..10000.</summary>
    public static ulong SharesToWeight(ulong shares) =>
        shares == 0 ? 0 : 1 + (Math.Clamp(shares, 2UL, 262144UL) - 2) * 9999 / 262142;

    /// <summary>The conversion runc and crun share for a blkio weight (10..1000) onto an io.weight (1..10000).</summary>
    public static ulong BlkioWeightToIoWeight(ulong weight) =>
        weight == 0 ? 0 : 1 + (Math.Clamp(weight, 10UL, 1000UL) - 10) * 9999 / 990;

    /// <summary>A v1 devices.allow/deny line: "type major:minor access".</summary>
    public static string DeviceRule(LinuxDeviceCgroup rule, int index)
    {
        var type = string.IsNullOrEmpty(rule.Type) ? "a" : rule.Type;
        if (type is not ("a" or "c" or "b"))
            throw new RuntimeException($"linux.resources.devices[{index}].type \"{rule.Type}\" is not one of a, c, b");
        var access = string.IsNullOrEmpty(rule.Access) ? "rwm" : rule.Access;
        if (access.Any(ch => ch is not ('r' or 'w' or 'm')))
            throw new RuntimeException($"linux.resources.devices[{index}].access \"{rule.Access}\" may hold only r, w and m");
        if (type == "a")
            return "a";
        string Number(long? n) => n is { } v and >= 0 ? v.ToString() : "*";
        return $"{type} {Number(rule.Major)}:{Number(rule.Minor)} {access}";
    }

    int TryWriteValue(CgroupController c, string file, string value)
    {
        var path = c.PathOf(file);
        try
        {
            CgroupFile.Write(path, value);
        }
        catch (SyscallException e)
        {
            return e.Errno;
        }
        OnWrite?.Invoke(path, value);
        return 0;
    }

    void WriteValue(CgroupController c, string field, string file, string value, Func<int, string>? detail = null)
    {
        var errno = TryWriteValue(c, file, value);
        if (errno != 0)
            throw WriteFailed(c, field, file, value, errno, detail);
    }

    static RuntimeException WriteFailed(CgroupController c, string field, string file, string value, int errno, Func<int, string>? detail = null) =>
        new($"linux.resources.{field}: cannot set {file} = {value.Trim()} in {c.Directory}: {Errors.Describe(errno)}{detail?.Invoke(errno)}");

    /// <summary>Why a file may be missing, for the error that names it.</summary>
    static string? Hint(string file) => file switch
    {
        "memory.memsw.limit_in_bytes" or "memory.swap.max" => "swap accounting is off: boot the kernel with swapaccount=1",
        "memory.kmem.tcp.limit_in_bytes" => "the kernel has no kernel memory accounting for this cgroup",
        "cpu.cfs_quota_us" or "cpu.cfs_period_us" or "cpu.max" => "the kernel lacks CONFIG_CFS_BANDWIDTH",
        "cpu.cfs_burst_us" or "cpu.max.burst" => "CPU burst needs Linux 5.14 or later",
        "cpu.idle" => "cpu.idle needs Linux 5.15 or later",
        "cpu.rt_runtime_us" or "cpu.rt_period_us" => "the kernel lacks CONFIG_RT_GROUP_SCHED",
        "blkio.weight" or "blkio.weight_device" or "blkio.leaf_weight" or "blkio.leaf_weight_device" or "blkio.bfq.weight" or "blkio.bfq.weight_device"
            => "weights need the CFQ or BFQ I/O scheduler (leaf weights: CFQ, removed in Linux 5.0)",
        "io.weight" => "the kernel has no io.weight (CONFIG_BLK_CGROUP_IOCOST) and the BFQ scheduler is not in use",
        _ when file.StartsWith("hugetlb.", StringComparison.Ordinal) => "the kernel does not have huge pages of this size",
        _ => null,
    };

    /// <summary>
    /// Whether a file is certainly missing, judged without writing: in the container's directory if
    /// it exists, else in its deepest existing ancestor. Unknown (false) when nothing can be read, at
    /// the top of a hierarchy for files the kernel shows only below it, and on v2 where the
    /// controller is not enabled at that level yet.
    /// </summary>
    static (bool Missing, string Directory) Probe(CgroupController c, string file)
    {
        var top = c.Hierarchy.MountPoint.TrimEnd('/');
        var dir = c.Directory.TrimEnd('/');
        while (dir.Length > top.Length && !Directory.Exists(dir))
            dir = Path.GetDirectoryName(dir) ?? "";
        if (dir.Length < top.Length || !Directory.Exists(dir))
            return (false, dir);
        var atTop = dir.Length == top.Length;
        if (c.IsV2)
        {
            if (atTop)
                return (false, dir);
            if (!file.StartsWith("cgroup.", StringComparison.Ordinal))
            {
                // Controller files appear once the parent enables the controller.
                var offered = CgroupFile.TryReadWords(Path.Combine(dir, "cgroup.controllers"));
                if (offered is null || !offered.Contains(c.Name))
                    return (false, dir);
            }
        }
        else if (atTop && NotOnV1Root(file))
            return (false, dir);
        return (!File.Exists(Path.Combine(dir, file)), dir);
    }

    /// <summary>v1 files the kernel does not show in a hierarchy's root cgroup (CFTYPE_NOT_ON_ROOT).</summary>
    static bool NotOnV1Root(string file) =>
        file.StartsWith("pids.", StringComparison.Ordinal) || file.StartsWith("rdma.", StringComparison.Ordinal)
        || file.StartsWith("blkio.bfq.", StringComparison.Ordinal) || file.StartsWith("blkio.weight", StringComparison.Ordinal)
        || file.StartsWith("blkio.leaf_weight", StringComparison.Ordinal);
}
