using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// Writes linux.resources into the container's cgroup files. This covers devices, pids, memory
/// limits and CPU shares/quota/cpusets on v1 and v2; the rest is refused by name until the full
/// drivers land, so that no limit is ever silently dropped.
/// </summary>
public sealed class ResourceWriter(ContainerCgroup cgroup)
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

    /// <summary>Refuses, before anything is created, every field this writer cannot honour on this host.</summary>
    public void Validate(LinuxResources? resources)
    {
        if (resources is null)
            return;
        static RuntimeException Unsupported(string field) =>
            new($"linux.resources.{field} is set, but this version of moat does not apply it yet");
        if (resources.BlockIo is not null) throw Unsupported("blockIO");
        if (resources.HugepageLimits is { Count: > 0 }) throw Unsupported("hugepageLimits");
        if (resources.Network is not null) throw Unsupported("network");
        if (resources.Rdma is { Count: > 0 }) throw Unsupported("rdma");
        if (resources.Unified is { Count: > 0 }) throw Unsupported("unified");
        if (resources.Memory is { } m)
        {
            if (m.Kernel is not null) throw Unsupported("memory.kernel");
            if (m.KernelTcp is not null) throw Unsupported("memory.kernelTCP");
            if (m.Swappiness is not null) throw Unsupported("memory.swappiness");
            if (m.DisableOomKiller == true) throw Unsupported("memory.disableOOMKiller");
            if (m.Swap is { } swap && m.Limit is { } limit && swap > 0 && limit > 0 && swap < limit)
                throw new RuntimeException($"linux.resources.memory.swap ({swap}) must not be below memory.limit ({limit}): swap is the limit of memory plus swap");
        }
        if (resources.Cpu is { } c)
        {
            if (c.RealtimePeriod is not null || c.RealtimeRuntime is not null) throw Unsupported("cpu.realtimeRuntime/realtimePeriod");
            if (c.Burst is not null) throw Unsupported("cpu.burst");
            if (c.Idle is not null) throw Unsupported("cpu.idle");
            if (c.Quota is > 0 && c.Period is null or 0)
                throw new RuntimeException("linux.resources.cpu.quota is set without cpu.period");
        }
        if (resources.Devices is { Count: > 0 })
        {
            if (cgroup.Host.IsPureV2)
                throw Unsupported("devices (cgroup v2 device programs)");
            foreach (var (rule, i) in resources.Devices.Select((r, i) => (r, i)))
                _ = DeviceRule(rule, i);
        }
    }

    public void Apply(LinuxResources? resources)
    {
        if (resources is null)
            return;
        if (cgroup.Host.IsPureV2)
            ApplyV2(resources);
        else
            ApplyV1(resources);
    }

    void ApplyV1(LinuxResources r)
    {
        if (r.Devices is { Count: > 0 } devices)
        {
            foreach (var (rule, i) in devices.Select((d, i) => (d, i)))
                Write("devices", rule.Allow ? "devices.allow" : "devices.deny", DeviceRule(rule, i));
            foreach (var rule in DefaultAllowedDevices)
                Write("devices", "devices.allow", rule);
        }
        if (r.Pids is { } pids)
            Write("pids", "pids.max", pids.Limit > 0 ? pids.Limit.ToString() : "max");
        if (r.Memory is { } m)
        {
            if (m.Reservation is { } reservation)
                Write("memory", "memory.soft_limit_in_bytes", reservation.ToString());
            // memory.limit may not exceed memsw.limit: raise the limit first when swap is unlimited, else swap first.
            if (m.Limit is { } limit)
            {
                if (m.Swap is { } swapFirst && swapFirst != -1 && HasFile("memory", "memory.memsw.limit_in_bytes"))
                {
                    Write("memory", "memory.limit_in_bytes", limit.ToString());
                    Write("memory", "memory.memsw.limit_in_bytes", swapFirst.ToString());
                }
                else
                    Write("memory", "memory.limit_in_bytes", limit.ToString());
            }
            else if (m.Swap is { } swap && HasFile("memory", "memory.memsw.limit_in_bytes"))
                Write("memory", "memory.memsw.limit_in_bytes", swap.ToString());
        }
        if (r.Cpu is { } c)
        {
            if (c.Shares is { } shares)
                Write("cpu", "cpu.shares", shares.ToString());
            if (c.Period is { } period)
                Write("cpu", "cpu.cfs_period_us", period.ToString());
            if (c.Quota is { } quota)
                Write("cpu", "cpu.cfs_quota_us", quota.ToString());
            if (c.Cpus is { Length: > 0 } cpus)
                Write("cpuset", "cpuset.cpus", cpus);
            if (c.Mems is { Length: > 0 } mems)
                Write("cpuset", "cpuset.mems", mems);
        }
    }

    void ApplyV2(LinuxResources r)
    {
        if (r.Pids is { } pids)
            Write(null, "pids.max", pids.Limit > 0 ? pids.Limit.ToString() : "max");
        if (r.Memory is { } m)
        {
            if (m.Reservation is { } reservation)
                Write(null, "memory.low", reservation == -1 ? "max" : reservation.ToString());
            if (m.Limit is { } limit)
                Write(null, "memory.max", limit == -1 ? "max" : limit.ToString());
            // v2 counts swap alone: the spec's swap is memory+swap.
            if (m.Swap is { } swap)
                Write(null, "memory.swap.max", swap == -1 ? "max" : Math.Max(0, swap - (m.Limit ?? 0)).ToString());
        }
        if (r.Cpu is { } c)
        {
            if (c.Shares is { } shares and > 0)
                Write(null, "cpu.weight", SharesToWeight(shares).ToString());
            if (c.Quota is not null || c.Period is not null)
                Write(null, "cpu.max", $"{(c.Quota is { } q and > 0 ? q.ToString() : "max")} {c.Period ?? 100000}");
            if (c.Cpus is { Length: > 0 } cpus)
                Write(null, "cpuset.cpus", cpus);
            if (c.Mems is { Length: > 0 } mems)
                Write(null, "cpuset.mems", mems);
        }
    }

    /// <summary>The conversion runc and crun share: shares 2..262144 onto weight 1..10000.</summary>
    public static ulong SharesToWeight(ulong shares) =>
        shares == 0 ? 0 : 1 + (Math.Clamp(shares, 2UL, 262144UL) - 2) * 9999 / 262142;

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

    bool HasFile(string controller, string file) =>
        Directory(controller) is { } dir && File.Exists(Path.Combine(dir, file));

    string? Directory(string? controller) => cgroup.Directories
        .Where(d => controller is null ? d.Hierarchy.IsV2 : !d.Hierarchy.IsV2 && d.Hierarchy.Has(controller))
        .Select(d => d.Directory).FirstOrDefault();

    void Write(string? controller, string file, string value)
    {
        var dir = Directory(controller) ?? throw new RuntimeException(
            $"cannot set {file} = {value}: the host has no {controller ?? "unified"} cgroup hierarchy");
        var path = Path.Combine(dir, file);
        try
        {
            Libc.WriteFile(path, value);
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"cannot set {file} = {value} in {dir}: {e.Message}", e);
        }
    }
}
