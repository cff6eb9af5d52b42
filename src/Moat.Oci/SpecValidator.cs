using System.Globalization;

namespace Moat.Oci;

/// <summary>
/// Rejects configurations the runtime cannot honour, before anything is created. The rules follow the
/// runtime-spec MUSTs plus the extra checks runc makes; each error names the offending field in JSON path
/// style (e.g. <c>linux.namespaces[2].type: unknown namespace type "foo"</c>).
/// Everything here is a pure function of the spec except the rootfs existence check.
/// </summary>
/// <remarks>
/// A relative mount destination is accepted and means "relative to /": runtime-spec 1.2 only says it
/// SHOULD be absolute, and runc accepts it with a deprecation warning (see <see cref="GetWarnings"/>).
/// </remarks>
public static class SpecValidator
{
    public static void Validate(Spec spec, string bundleDirectory, bool requireProcess = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(bundleDirectory);

        CheckVersion(spec.OciVersion);
        CheckRoot(spec.Root, bundleDirectory);
        // Later rules depend on which namespaces exist, so these are checked first.
        var namespaces = CheckNamespaces(spec.Linux?.Namespaces);
        CheckProcess(spec.Process, requireProcess);
        CheckUts(spec, namespaces);
        CheckMounts(spec.Mounts);
        CheckHooks(spec.Hooks);
        if (spec.Linux is { } linux)
        {
            CheckLinux(linux, spec, namespaces);
        }
    }

    /// <summary>Accepted but deprecated or ignored settings, phrased for a log line.</summary>
    public static IReadOnlyList<string> GetWarnings(Spec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var warnings = new List<string>();
        for (var i = 0; i < (spec.Mounts?.Count ?? 0); i++)
        {
            var destination = spec.Mounts![i].Destination;
            if (destination.Length > 0 && !IsAbsolute(destination))
            {
                warnings.Add($"mounts[{i}].destination: relative path \"{destination}\" is deprecated and is taken as relative to /");
            }
        }
        if (spec.Hooks?.Prestart is { Count: > 0 })
        {
            warnings.Add("hooks.prestart: deprecated; use createRuntime, createContainer or startContainer");
        }
        if (spec.Linux?.Resources?.Memory?.Kernel is not null)
        {
            warnings.Add("linux.resources.memory.kernel: kernel memory limits are no longer supported by Linux and are ignored");
        }
        return warnings;
    }

    private static SpecException Fail(string path, string message) => new($"{path}: {message}");

    private static bool IsAbsolute(string path) => path.StartsWith('/');

    private static string Quote(string value) => $"\"{value}\"";

    // ---- top level ----

    private static void CheckVersion(string version)
    {
        if (string.IsNullOrEmpty(version))
        {
            throw Fail("ociVersion", "must be set");
        }
        if (!SpecVersion.TryParse(version, out var major, out _, out _))
        {
            throw Fail("ociVersion", $"{Quote(version)} is not a valid semantic version");
        }
        if (major != 1)
        {
            throw Fail("ociVersion", $"unsupported version {Quote(version)}: only 1.x is supported");
        }
    }

    private static void CheckRoot(Root? root, string bundleDirectory)
    {
        if (root is null)
        {
            throw Fail("root", "must be set");
        }
        if (string.IsNullOrEmpty(root.Path))
        {
            throw Fail("root.path", "must be set");
        }
        var rootfs = Bundle.ResolveRootfs(bundleDirectory, root);
        if (!Directory.Exists(rootfs))
        {
            throw Fail("root.path", $"rootfs {rootfs} does not exist");
        }
    }

    private static void CheckUts(Spec spec, NamespaceConfig namespaces)
    {
        if (!string.IsNullOrEmpty(spec.Hostname) && !namespaces.Has(NamespaceType.Uts))
        {
            throw Fail("hostname", "setting the hostname requires a uts namespace");
        }
        if (!string.IsNullOrEmpty(spec.Domainname) && !namespaces.Has(NamespaceType.Uts))
        {
            throw Fail("domainname", "setting the domainname requires a uts namespace");
        }
    }

    private static void CheckMounts(List<Mount>? mounts)
    {
        for (var i = 0; i < (mounts?.Count ?? 0); i++)
        {
            var mount = mounts![i];
            var path = $"mounts[{i}]";
            if (string.IsNullOrEmpty(mount.Destination))
            {
                throw Fail($"{path}.destination", "must be set");
            }
            if (mount.Destination.Contains('\0'))
            {
                throw Fail($"{path}.destination", "contains a NUL byte");
            }

            var hasUidMappings = mount.UidMappings is { Count: > 0 };
            var hasGidMappings = mount.GidMappings is { Count: > 0 };
            if (!hasUidMappings && !hasGidMappings)
            {
                continue;
            }
            if (hasUidMappings != hasGidMappings)
            {
                throw Fail(path, "an id-mapped mount needs both uidMappings and gidMappings");
            }
            // The kernel can only attach an id mapping to a detached bind mount.
            var isBind = mount.Type == "bind" || (mount.Options?.Any(o => o is "bind" or "rbind") ?? false);
            if (!isBind)
            {
                throw Fail(path, "id-mapped mounts are only supported for bind mounts");
            }
            CheckMappingSizes(mount.UidMappings, $"{path}.uidMappings");
            CheckMappingSizes(mount.GidMappings, $"{path}.gidMappings");
        }
    }

    private static void CheckHooks(Hooks? hooks)
    {
        if (hooks is null)
        {
            return;
        }
        foreach (var (name, list) in hooks.Enumerate())
        {
            for (var i = 0; i < list.Count; i++)
            {
                var hook = list[i];
                var path = $"hooks.{name}[{i}]";
                if (string.IsNullOrEmpty(hook.Path))
                {
                    throw Fail($"{path}.path", "must be set");
                }
                if (!IsAbsolute(hook.Path))
                {
                    throw Fail($"{path}.path", $"must be an absolute path, got {Quote(hook.Path)}");
                }
                if (hook.Timeout is <= 0)
                {
                    throw Fail($"{path}.timeout", $"must be greater than zero, got {hook.Timeout}");
                }
            }
        }
    }

    // ---- process ----

    private static readonly string[] SchedulerPolicies =
        ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"];

    private static readonly string[] SchedulerFlags =
    [
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
        "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
    ];

    private static readonly string[] IoPriorityClasses = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];

    private static void CheckProcess(Process? process, bool requireProcess)
    {
        if (process is null)
        {
            if (requireProcess)
            {
                throw Fail("process", "must be set");
            }
            return;
        }

        if (requireProcess && process.Args is not { Count: > 0 })
        {
            throw Fail("process.args", "must not be empty");
        }
        if (string.IsNullOrEmpty(process.Cwd))
        {
            throw Fail("process.cwd", "must be set");
        }
        if (!IsAbsolute(process.Cwd))
        {
            throw Fail("process.cwd", $"must be an absolute path, got {Quote(process.Cwd)}");
        }

        CheckEnvironment(process.Env, "process.env");
        // No rule for process.capabilities: an unknown name is warned about and dropped by the
        // runtime, like every capability it cannot grant (runtime-spec 1.1+, runc, crun).
        CheckRlimits(process.Rlimits);

        if (process.OomScoreAdj is { } oomScoreAdj && (oomScoreAdj < -1000 || oomScoreAdj > 1000))
        {
            throw Fail("process.oomScoreAdj", $"{oomScoreAdj} is outside the range -1000..1000");
        }
        if (process.Scheduler is { } scheduler)
        {
            CheckScheduler(scheduler);
        }
        if (process.IoPriority is { } ioPriority)
        {
            if (!IoPriorityClasses.Contains(ioPriority.Class))
            {
                throw Fail("process.ioPriority.class", $"unknown class {Quote(ioPriority.Class)}");
            }
            if (ioPriority.Priority is < 0 or > 7)
            {
                throw Fail("process.ioPriority.priority", $"{ioPriority.Priority} is outside the range 0..7");
            }
        }
        if (process.ExecCpuAffinity is { } affinity)
        {
            CheckCpuList(affinity.Initial, "process.execCPUAffinity.initial");
            CheckCpuList(affinity.Final, "process.execCPUAffinity.final");
        }
    }

    private static void CheckEnvironment(List<string>? env, string path)
    {
        for (var i = 0; i < (env?.Count ?? 0); i++)
        {
            var entry = env![i];
            var equals = entry.IndexOf('=');
            if (equals < 0)
            {
                throw Fail($"{path}[{i}]", $"{Quote(entry)} is not of the form KEY=VALUE");
            }
            if (equals == 0)
            {
                throw Fail($"{path}[{i}]", $"{Quote(entry)} has an empty variable name");
            }
            if (entry.Contains('\0'))
            {
                throw Fail($"{path}[{i}]", "contains a NUL byte");
            }
        }
    }

    private static void CheckRlimits(List<PosixRlimit>? rlimits)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (rlimits?.Count ?? 0); i++)
        {
            var rlimit = rlimits![i];
            var path = $"process.rlimits[{i}]";
            if (!Rlimits.IsKnown(rlimit.Type))
            {
                throw Fail($"{path}.type", $"unknown rlimit type {Quote(rlimit.Type)}");
            }
            if (!seen.Add(rlimit.Type))
            {
                throw Fail($"{path}.type", $"duplicate rlimit type {Quote(rlimit.Type)}");
            }
            if (rlimit.Soft > rlimit.Hard)
            {
                throw Fail(path, $"soft limit {rlimit.Soft} exceeds hard limit {rlimit.Hard}");
            }
        }
    }

    // Mirrors what sched_setattr(2) accepts for each policy.
    private static void CheckScheduler(Scheduler scheduler)
    {
        const string path = "process.scheduler";
        if (!SchedulerPolicies.Contains(scheduler.Policy))
        {
            throw Fail($"{path}.policy", $"unknown policy {Quote(scheduler.Policy)}");
        }
        if (scheduler.Nice is { } nice && (nice < -20 || nice > 19))
        {
            throw Fail($"{path}.nice", $"{nice} is outside the range -20..19");
        }
        if (scheduler.Priority is { } priority and not 0 && scheduler.Policy is not ("SCHED_FIFO" or "SCHED_RR"))
        {
            throw Fail($"{path}.priority", $"{priority} can only be set with SCHED_FIFO or SCHED_RR");
        }
        var hasDeadlineParameters = scheduler.Runtime is not (null or 0)
            || scheduler.Deadline is not (null or 0)
            || scheduler.Period is not (null or 0);
        if (hasDeadlineParameters && scheduler.Policy != "SCHED_DEADLINE")
        {
            throw Fail(path, "runtime, deadline and period can only be set with SCHED_DEADLINE");
        }
        for (var i = 0; i < (scheduler.Flags?.Count ?? 0); i++)
        {
            if (!SchedulerFlags.Contains(scheduler.Flags![i]))
            {
                throw Fail($"{path}.flags[{i}]", $"unknown flag {Quote(scheduler.Flags[i])}");
            }
        }
    }

    // A cpuset-style list such as "0-3,7": numbers, ranges, commas (spaces tolerated like the schema does).
    private static void CheckCpuList(string? list, string path)
    {
        if (string.IsNullOrEmpty(list))
        {
            return;
        }
        foreach (var rawPart in list.Split(','))
        {
            var part = rawPart.Trim();
            var bounds = part.Split('-');
            var valid = bounds.Length is 1 or 2 && bounds.All(b => b.Trim() is { Length: > 0 } n && n.All(char.IsAsciiDigit));
            if (valid && bounds.Length == 2)
            {
                valid = ulong.TryParse(bounds[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                    && ulong.TryParse(bounds[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var last)
                    && first <= last;
            }
            if (!valid)
            {
                throw Fail(path, $"{Quote(list)} is not a CPU list like \"0-3,7\"");
            }
        }
    }

    // ---- linux ----

    /// <summary>The namespaces a spec asks for: type -> path to join, or null to create a new one.</summary>
    private sealed class NamespaceConfig(Dictionary<string, string?> paths)
    {
        public bool Has(string type) => paths.ContainsKey(type);

        public bool IsNew(string type) => paths.TryGetValue(type, out var path) && path is null;

        public bool IsJoined(string type) => paths.TryGetValue(type, out var path) && path is not null;
    }

    private static NamespaceConfig CheckNamespaces(List<LinuxNamespace>? namespaces)
    {
        var paths = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < (namespaces?.Count ?? 0); i++)
        {
            var ns = namespaces![i];
            var path = $"linux.namespaces[{i}]";
            if (string.IsNullOrEmpty(ns.Type))
            {
                throw Fail($"{path}.type", "must be set");
            }
            if (!NamespaceType.IsKnown(ns.Type))
            {
                throw Fail($"{path}.type", $"unknown namespace type {Quote(ns.Type)}");
            }
            if (paths.ContainsKey(ns.Type))
            {
                throw Fail($"{path}.type", $"duplicate namespace type {Quote(ns.Type)}");
            }
            if (!string.IsNullOrEmpty(ns.Path) && !IsAbsolute(ns.Path))
            {
                throw Fail($"{path}.path", $"must be an absolute path, got {Quote(ns.Path)}");
            }
            paths[ns.Type] = string.IsNullOrEmpty(ns.Path) ? null : ns.Path;
        }
        return new NamespaceConfig(paths);
    }

    private static void CheckLinux(Linux linux, Spec spec, NamespaceConfig namespaces)
    {
        CheckUserNamespace(linux, spec.Process, namespaces);
        CheckTimeOffsets(linux.TimeOffsets, namespaces);
        CheckDevices(linux.Devices);
        if (linux.Resources is { } resources)
        {
            CheckResources(resources);
        }
        if (linux.IntelRdt is { } intelRdt)
        {
            CheckIntelRdt(intelRdt);
        }
        CheckSysctls(linux.Sysctl, spec, namespaces);
        if (linux.Seccomp is { } seccomp)
        {
            CheckSeccomp(seccomp);
        }
        CheckRootfsPropagation(linux.RootfsPropagation);
        CheckRestrictedPaths(linux.MaskedPaths, "linux.maskedPaths", namespaces);
        CheckRestrictedPaths(linux.ReadonlyPaths, "linux.readonlyPaths", namespaces);
        if (linux.Personality is { } personality)
        {
            CheckPersonality(personality);
        }
        CheckNetDevices(linux.NetDevices, namespaces);
    }

    private static void CheckUserNamespace(Linux linux, Process? process, NamespaceConfig namespaces)
    {
        var uidMappings = linux.UidMappings;
        var gidMappings = linux.GidMappings;
        var hasUidMappings = uidMappings is { Count: > 0 };
        var hasGidMappings = gidMappings is { Count: > 0 };

        if (!namespaces.Has(NamespaceType.User))
        {
            if (hasUidMappings)
            {
                throw Fail("linux.uidMappings", "id mappings require a user namespace");
            }
            if (hasGidMappings)
            {
                throw Fail("linux.gidMappings", "id mappings require a user namespace");
            }
            return;
        }

        CheckMappingSizes(uidMappings, "linux.uidMappings");
        CheckMappingSizes(gidMappings, "linux.gidMappings");

        // Joining an existing user namespace may come with mappings (the runtime checks they match), or without.
        if (namespaces.IsNew(NamespaceType.User))
        {
            if (!hasUidMappings)
            {
                throw Fail("linux.uidMappings", "a new user namespace requires uid mappings");
            }
            if (!hasGidMappings)
            {
                throw Fail("linux.gidMappings", "a new user namespace requires gid mappings");
            }
            if (!IsMapped(uidMappings!, 0))
            {
                throw Fail("linux.uidMappings", "container root (uid 0) is not mapped");
            }
            if (!IsMapped(gidMappings!, 0))
            {
                throw Fail("linux.gidMappings", "container root (gid 0) is not mapped");
            }
        }

        // setuid/setgid to an unmapped id fails inside the namespace; report it against the field instead.
        if (process is null)
        {
            return;
        }
        if (hasUidMappings && !IsMapped(uidMappings!, process.User.Uid))
        {
            throw Fail("process.user.uid", $"uid {process.User.Uid} is not mapped in the user namespace");
        }
        if (hasGidMappings)
        {
            if (!IsMapped(gidMappings!, process.User.Gid))
            {
                throw Fail("process.user.gid", $"gid {process.User.Gid} is not mapped in the user namespace");
            }
            for (var i = 0; i < (process.User.AdditionalGids?.Count ?? 0); i++)
            {
                var gid = process.User.AdditionalGids![i];
                if (!IsMapped(gidMappings!, gid))
                {
                    throw Fail($"process.user.additionalGids[{i}]", $"gid {gid} is not mapped in the user namespace");
                }
            }
        }
    }

    private static bool IsMapped(List<LinuxIdMapping> mappings, uint containerId) =>
        mappings.Any(m => containerId >= m.ContainerId && (ulong)containerId < (ulong)m.ContainerId + m.Size);

    private static void CheckMappingSizes(List<LinuxIdMapping>? mappings, string path)
    {
        for (var i = 0; i < (mappings?.Count ?? 0); i++)
        {
            if (mappings![i].Size == 0)
            {
                throw Fail($"{path}[{i}].size", "must be greater than zero");
            }
        }
    }

    private static void CheckTimeOffsets(Dictionary<string, LinuxTimeOffset>? offsets, NamespaceConfig namespaces)
    {
        if (offsets is not { Count: > 0 })
        {
            return;
        }
        if (!namespaces.Has(NamespaceType.Time))
        {
            throw Fail("linux.timeOffsets", "requires a time namespace");
        }
        // Offsets can only be written before the first process enters a time namespace.
        if (namespaces.IsJoined(NamespaceType.Time))
        {
            throw Fail("linux.timeOffsets", "cannot be set when joining an existing time namespace");
        }
        foreach (var (clock, offset) in offsets)
        {
            if (clock is not ("monotonic" or "boottime"))
            {
                throw Fail("linux.timeOffsets", $"unknown clock {Quote(clock)} (expected monotonic or boottime)");
            }
            if (offset.Nanosecs >= 1_000_000_000)
            {
                throw Fail($"linux.timeOffsets.{clock}.nanosecs", $"{offset.Nanosecs} must be less than 1000000000");
            }
        }
    }

    private static void CheckDevices(List<LinuxDevice>? devices)
    {
        for (var i = 0; i < (devices?.Count ?? 0); i++)
        {
            var device = devices![i];
            var path = $"linux.devices[{i}]";
            if (device.Type is not ("c" or "b" or "u" or "p"))
            {
                throw Fail($"{path}.type", $"unknown device type {Quote(device.Type)} (expected c, b, u or p)");
            }
            if (string.IsNullOrEmpty(device.Path))
            {
                throw Fail($"{path}.path", "must be set");
            }
            if (!IsAbsolute(device.Path))
            {
                throw Fail($"{path}.path", $"must be an absolute path, got {Quote(device.Path)}");
            }
            if (device.Type != "p")
            {
                if (device.Major is null)
                {
                    throw Fail($"{path}.major", $"required for device type {device.Type}");
                }
                if (device.Minor is null)
                {
                    throw Fail($"{path}.minor", $"required for device type {device.Type}");
                }
            }
            if (device.Major is < 0)
            {
                throw Fail($"{path}.major", $"must not be negative, got {device.Major}");
            }
            if (device.Minor is < 0)
            {
                throw Fail($"{path}.minor", $"must not be negative, got {device.Minor}");
            }
            // Permission bits (with setuid/setgid/sticky), and possibly the file type too: podman
            // passes the host node's whole st_mode (020666), which runc accepts. The type comes
            // from "type" and only the permission bits are used; a type that contradicts it is refused.
            if (device.FileMode is { } fileMode)
            {
                var fileType = fileMode & ~0x0FFFu;
                var expected = device.Type switch { "c" or "u" => 0x2000u, "b" => 0x6000u, "p" => 0x1000u, _ => fileType };
                if (fileType != 0 && fileType != expected)
                {
                    throw Fail($"{path}.fileMode", $"0{Convert.ToString(fileMode, 8)} has file type bits 0{Convert.ToString(fileType, 8)}, which are not those of device type {Quote(device.Type)} (0{Convert.ToString(expected, 8)})");
                }
            }
        }
    }

    private static void CheckResources(LinuxResources resources)
    {
        const string path = "linux.resources";
        for (var i = 0; i < (resources.Devices?.Count ?? 0); i++)
        {
            var rule = resources.Devices![i];
            if (rule.Type is not (null or "" or "a" or "b" or "c"))
            {
                throw Fail($"{path}.devices[{i}].type", $"unknown device type {Quote(rule.Type)} (expected a, b or c)");
            }
            if (rule.Access is { } access && !access.All(c => c is 'r' or 'w' or 'm'))
            {
                throw Fail($"{path}.devices[{i}].access", $"{Quote(access)} may only contain r, w and m");
            }
        }

        if (resources.Memory?.Swappiness is > 100)
        {
            throw Fail($"{path}.memory.swappiness", $"{resources.Memory.Swappiness} is outside the range 0..100");
        }
        if (resources.Cpu?.Idle is { } idle and not (0 or 1))
        {
            throw Fail($"{path}.cpu.idle", $"must be 0 or 1, got {idle}");
        }

        if (resources.BlockIo?.WeightDevice is { } weightDevices)
        {
            for (var i = 0; i < weightDevices.Count; i++)
            {
                if (weightDevices[i].Weight is null && weightDevices[i].LeafWeight is null)
                {
                    throw Fail($"{path}.blockIO.weightDevice[{i}]", "at least one of weight or leafWeight must be set");
                }
            }
        }

        for (var i = 0; i < (resources.HugepageLimits?.Count ?? 0); i++)
        {
            var pageSize = resources.HugepageLimits![i].PageSize;
            if (!IsHugepageSize(pageSize))
            {
                throw Fail($"{path}.hugepageLimits[{i}].pageSize", $"{Quote(pageSize)} is not a size like 2MB or 1GB");
            }
        }

        for (var i = 0; i < (resources.Network?.Priorities?.Count ?? 0); i++)
        {
            if (string.IsNullOrEmpty(resources.Network!.Priorities![i].Name))
            {
                throw Fail($"{path}.network.priorities[{i}].name", "must be set");
            }
        }

        foreach (var (device, limit) in resources.Rdma ?? [])
        {
            if (limit.HcaHandles is null && limit.HcaObjects is null)
            {
                throw Fail($"{path}.rdma[{Quote(device)}]", "at least one of hcaHandles or hcaObjects must be set");
            }
        }

        foreach (var key in resources.Unified?.Keys ?? Enumerable.Empty<string>())
        {
            // Keys name files inside the container's cgroup directory; a slash would escape it.
            if (key.Length == 0 || key.Contains('/') || key is "." or "..")
            {
                throw Fail($"{path}.unified[{Quote(key)}]", "must be a cgroup interface file name");
            }
        }
    }

    // Pattern from the schema: ^[1-9][0-9]*[KMG]B$
    private static bool IsHugepageSize(string size) =>
        size.Length >= 3
        && size[^1] == 'B'
        && size[^2] is 'K' or 'M' or 'G'
        && size[0] is >= '1' and <= '9'
        && size[..^2].All(char.IsAsciiDigit);

    private static void CheckIntelRdt(LinuxIntelRdt intelRdt)
    {
        // closID names a directory under /sys/fs/resctrl.
        if (intelRdt.ClosId is { } closId && (closId is "." or ".." || closId.Contains('/')))
        {
            throw Fail("linux.intelRdt.closID", $"{Quote(closId)} is not a valid resctrl group name");
        }
        if (intelRdt.MemBwSchema is { } memBwSchema
            && (!memBwSchema.StartsWith("MB:", StringComparison.Ordinal) || memBwSchema.Contains('\n')))
        {
            throw Fail("linux.intelRdt.memBwSchema", "must start with \"MB:\" and be a single line");
        }
    }

    private static readonly string[] IpcSysctls =
    [
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
    ];

    /// <summary>
    /// Only sysctls that live in a namespace the container owns may be set; anything else would change the host.
    /// A joined network namespace counts as private: telling it apart from the host's needs a stat, which the
    /// runtime does when it joins.
    /// </summary>
    private static void CheckSysctls(Dictionary<string, string>? sysctls, Spec spec, NamespaceConfig namespaces)
    {
        foreach (var key in sysctls?.Keys ?? Enumerable.Empty<string>())
        {
            var path = $"linux.sysctl[{Quote(key)}]";
            var name = NormalizeSysctlName(key);
            if (IpcSysctls.Contains(name) || name.StartsWith("fs.mqueue.", StringComparison.Ordinal))
            {
                if (!namespaces.Has(NamespaceType.Ipc))
                {
                    throw Fail(path, "requires an ipc namespace");
                }
                continue;
            }
            if (name.StartsWith("net.", StringComparison.Ordinal))
            {
                if (!namespaces.Has(NamespaceType.Network))
                {
                    throw Fail(path, "requires a network namespace");
                }
                continue;
            }
            if (name is "kernel.hostname" or "kernel.domainname")
            {
                if (!namespaces.Has(NamespaceType.Uts))
                {
                    throw Fail(path, "requires a uts namespace");
                }
                // The dedicated fields win; setting both would make the result depend on ordering.
                if (name == "kernel.hostname")
                {
                    throw Fail(path, "conflicts with the hostname field; set hostname instead");
                }
                // The same value twice is harmless (runc and crun accept it); only a conflict is refused.
                if (!string.IsNullOrEmpty(spec.Domainname) && sysctls![key] is var value && value != spec.Domainname)
                {
                    throw Fail(path, $"{Quote(value)} conflicts with the domainname field {Quote(spec.Domainname)}");
                }
                continue;
            }
            if (name.StartsWith("user.", StringComparison.Ordinal))
            {
                // ucounts are per user namespace; without one they would change host-wide limits.
                if (!namespaces.Has(NamespaceType.User))
                {
                    throw Fail(path, "requires a user namespace");
                }
                continue;
            }
            throw Fail(path, "is not namespaced and cannot be set for a container");
        }
    }

    /// <summary>sysctl(8) also accepts '/' as the separator (then '.' is literal, as in interface names); convert to dots.</summary>
    public static string NormalizeSysctlName(string name)
    {
        var firstSeparator = name.IndexOfAny(['.', '/']);
        if (firstSeparator < 0 || name[firstSeparator] == '.')
        {
            return name;
        }
        return string.Create(name.Length, name, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = source[i] switch { '/' => '.', '.' => '/', var c => c };
            }
        });
    }

    private static void CheckSeccomp(LinuxSeccomp seccomp)
    {
        const string path = "linux.seccomp";
        if (string.IsNullOrEmpty(seccomp.DefaultAction))
        {
            throw Fail($"{path}.defaultAction", "must be set");
        }
        if (!SeccompNames.IsAction(seccomp.DefaultAction))
        {
            throw Fail($"{path}.defaultAction", $"unknown action {Quote(seccomp.DefaultAction)}");
        }
        // Notifying on every syscall would also trap the runtime's own calls that hand the listener fd over.
        if (seccomp.DefaultAction == SeccompNames.ActNotify)
        {
            throw Fail($"{path}.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
        }
        if (seccomp.DefaultErrnoRet is not null && !SeccompNames.ActionTakesErrno(seccomp.DefaultAction))
        {
            throw Fail($"{path}.defaultErrnoRet", $"cannot be used with {seccomp.DefaultAction}");
        }

        for (var i = 0; i < (seccomp.Architectures?.Count ?? 0); i++)
        {
            if (!SeccompNames.IsArchitecture(seccomp.Architectures![i]))
            {
                throw Fail($"{path}.architectures[{i}]", $"unknown architecture {Quote(seccomp.Architectures[i])}");
            }
        }
        for (var i = 0; i < (seccomp.Flags?.Count ?? 0); i++)
        {
            if (!SeccompNames.IsFlag(seccomp.Flags![i]))
            {
                throw Fail($"{path}.flags[{i}]", $"unknown flag {Quote(seccomp.Flags[i])}");
            }
        }
        if (!string.IsNullOrEmpty(seccomp.ListenerMetadata) && string.IsNullOrEmpty(seccomp.ListenerPath))
        {
            throw Fail($"{path}.listenerMetadata", "requires listenerPath");
        }
        if (!string.IsNullOrEmpty(seccomp.ListenerPath) && !IsAbsolute(seccomp.ListenerPath))
        {
            throw Fail($"{path}.listenerPath", $"must be an absolute path, got {Quote(seccomp.ListenerPath)}");
        }

        for (var i = 0; i < (seccomp.Syscalls?.Count ?? 0); i++)
        {
            CheckSyscallRule(seccomp.Syscalls![i], $"{path}.syscalls[{i}]", seccomp);
        }
    }

    private static void CheckSyscallRule(LinuxSyscall rule, string path, LinuxSeccomp seccomp)
    {
        if (rule.Names.Count == 0)
        {
            throw Fail($"{path}.names", "must contain at least one syscall name");
        }
        for (var i = 0; i < rule.Names.Count; i++)
        {
            if (string.IsNullOrEmpty(rule.Names[i]))
            {
                throw Fail($"{path}.names[{i}]", "must not be empty");
            }
        }
        if (string.IsNullOrEmpty(rule.Action))
        {
            throw Fail($"{path}.action", "must be set");
        }
        if (!SeccompNames.IsAction(rule.Action))
        {
            throw Fail($"{path}.action", $"unknown action {Quote(rule.Action)}");
        }
        if (rule.ErrnoRet is not null && !SeccompNames.ActionTakesErrno(rule.Action))
        {
            throw Fail($"{path}.errnoRet", $"cannot be used with {rule.Action}");
        }
        if (rule.Action == SeccompNames.ActNotify)
        {
            if (string.IsNullOrEmpty(seccomp.ListenerPath))
            {
                throw Fail($"{path}.action", "SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
            }
            // The runtime itself writes to the container's stdio after the filter is loaded.
            if (rule.Names.Contains("write"))
            {
                throw Fail($"{path}.action", "SCMP_ACT_NOTIFY cannot be used for the write syscall");
            }
        }
        for (var i = 0; i < (rule.Args?.Count ?? 0); i++)
        {
            var arg = rule.Args![i];
            // Syscalls take at most six arguments.
            if (arg.Index > 5)
            {
                throw Fail($"{path}.args[{i}].index", $"{arg.Index} is outside the range 0..5");
            }
            if (!SeccompNames.IsOperator(arg.Op))
            {
                throw Fail($"{path}.args[{i}].op", $"unknown operator {Quote(arg.Op)}");
            }
        }
    }

    private static readonly string[] RootfsPropagationModes =
        ["", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"];

    private static void CheckRootfsPropagation(string? propagation)
    {
        if (propagation is not null && !RootfsPropagationModes.Contains(propagation))
        {
            throw Fail("linux.rootfsPropagation", $"unknown propagation {Quote(propagation)}");
        }
    }

    private static void CheckRestrictedPaths(List<string>? paths, string fieldPath, NamespaceConfig namespaces)
    {
        if (paths is not { Count: > 0 })
        {
            return;
        }
        // Masking or remounting read-only without a private mount namespace would change the host.
        if (!namespaces.Has(NamespaceType.Mount))
        {
            throw Fail(fieldPath, "requires a mount namespace");
        }
        for (var i = 0; i < paths.Count; i++)
        {
            if (!IsAbsolute(paths[i]))
            {
                throw Fail($"{fieldPath}[{i}]", $"must be an absolute path, got {Quote(paths[i])}");
            }
        }
    }

    private static void CheckPersonality(LinuxPersonality personality)
    {
        if (personality.Domain is not ("LINUX" or "LINUX32"))
        {
            throw Fail("linux.personality.domain", $"unknown domain {Quote(personality.Domain)} (expected LINUX or LINUX32)");
        }
        // runtime-spec 1.2: "Currently no flag values are supported."
        if (personality.Flags is { Count: > 0 })
        {
            throw Fail("linux.personality.flags", $"unsupported flag {Quote(personality.Flags[0])}");
        }
    }

    private static void CheckNetDevices(Dictionary<string, LinuxNetDevice>? netDevices, NamespaceConfig namespaces)
    {
        if (netDevices is not { Count: > 0 })
        {
            return;
        }
        if (!namespaces.Has(NamespaceType.Network))
        {
            throw Fail("linux.netDevices", "moving network devices requires a network namespace");
        }
        foreach (var (hostName, device) in netDevices)
        {
            var path = $"linux.netDevices[{Quote(hostName)}]";
            if (!IsValidInterfaceName(hostName))
            {
                throw Fail(path, $"{Quote(hostName)} is not a valid network interface name");
            }
            if (!string.IsNullOrEmpty(device.Name) && !IsValidInterfaceName(device.Name))
            {
                throw Fail($"{path}.name", $"{Quote(device.Name)} is not a valid network interface name");
            }
        }
    }

    // The kernel's dev_valid_name(): at most IFNAMSIZ-1 (15) bytes, not "." or "..", no '/', ':' or whitespace.
    private static bool IsValidInterfaceName(string name) =>
        name.Length is > 0 and <= 15
        && name is not ("." or "..")
        && !name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c));
}
