using System.Globalization;
using Moat.Oci.Diagnostics;

namespace Moat.Oci;

/// <summary>
/// Rejects configurations the runtime cannot honour, before anything is created. The rules follow the
/// runtime-spec MUSTs plus the extra checks runc makes; every finding is a <see cref="Diagnostic"/> that
/// names the offending field in JSON path style (e.g. <c>linux.namespaces[2].type: unknown namespace
/// type "foo"</c>), and all of them are collected, not only the first.
/// Everything here is a pure function of the spec except the rootfs existence check.
/// </summary>
/// <remarks>
/// A relative mount destination is accepted and means "relative to /": runtime-spec 1.2 only says it
/// SHOULD be absolute, and runc accepts it with a deprecation warning (see <see cref="GetWarnings"/>).
/// </remarks>
public static class SpecValidator
{
    /// <summary>create's check: a <see cref="SpecException"/> listing the errors (the first one, and how many more) if there is any.</summary>
    public static void Validate(Spec spec, string bundleDirectory, bool requireProcess = true)
    {
        var diagnostics = new DiagnosticList();
        CollectErrors(spec, bundleDirectory, requireProcess, diagnostics);
        if (diagnostics.HasErrors)
        {
            throw new SpecException(diagnostics);
        }
    }

    /// <summary>Every finding, errors and warnings, in the order of the rules.</summary>
    public static DiagnosticList Check(Spec spec, string bundleDirectory, bool requireProcess = true)
    {
        var diagnostics = new DiagnosticList();
        CollectErrors(spec, bundleDirectory, requireProcess, diagnostics);
        CollectWarnings(spec, diagnostics);
        return diagnostics;
    }

    /// <summary>Accepted but deprecated or ignored settings, phrased for a log line.</summary>
    public static IReadOnlyList<string> GetWarnings(Spec spec)
    {
        var diagnostics = new DiagnosticList();
        CollectWarnings(spec, diagnostics);
        var warnings = new List<string>(diagnostics.Count);
        foreach (var diagnostic in diagnostics)
        {
            warnings.Add(diagnostic.ToString());
        }
        return warnings;
    }

    private static void CollectErrors(Spec spec, string bundleDirectory, bool requireProcess, DiagnosticList diagnostics)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(bundleDirectory);

        CheckVersion(spec.OciVersion, diagnostics);
        CheckRoot(spec.Root, bundleDirectory, diagnostics);
        // Later rules depend on which namespaces exist, so these are checked first.
        var namespaces = CheckNamespaces(spec.Linux?.Namespaces, diagnostics);
        CheckProcess(spec.Process, requireProcess, diagnostics);
        CheckUts(spec, namespaces, diagnostics);
        CheckMounts(spec.Mounts, diagnostics);
        CheckHooks(spec.Hooks, diagnostics);
        if (spec.Linux is { } linux)
        {
            CheckLinux(linux, spec, namespaces, diagnostics);
        }
    }

    private static void CollectWarnings(Spec spec, DiagnosticList diagnostics)
    {
        ArgumentNullException.ThrowIfNull(spec);
        for (var i = 0; i < (spec.Mounts?.Count ?? 0); i++)
        {
            var destination = spec.Mounts![i].Destination;
            if (destination.Length > 0 && !IsAbsolute(destination))
            {
                diagnostics.Warning($"mounts[{i}].destination", $"relative path \"{destination}\" is deprecated and is taken as relative to /",
                    fix: $"use \"/{destination}\"");
            }
        }
        if (spec.Hooks?.Prestart is { Count: > 0 })
        {
            diagnostics.Warning("hooks.prestart", "deprecated; use createRuntime, createContainer or startContainer",
                fix: "move the hooks to createRuntime (same namespaces as prestart)");
        }
        if (spec.Linux?.Resources?.Memory?.Kernel is not null)
        {
            diagnostics.Warning("linux.resources.memory.kernel", "kernel memory limits are no longer supported by Linux and are ignored",
                fix: "remove linux.resources.memory.kernel");
        }
    }

    private static bool IsAbsolute(string path) => path.StartsWith('/');

    private static string Quote(string value) => $"\"{value}\"";

    // ---- top level ----

    private static void CheckVersion(string version, DiagnosticList diagnostics)
    {
        if (string.IsNullOrEmpty(version))
        {
            diagnostics.Error("ociVersion", "must be set", fix: $"set ociVersion to {Quote(SpecVersion.Current)}");
        }
        else if (!SpecVersion.TryParse(version, out var major, out _, out _))
        {
            diagnostics.Error("ociVersion", $"{Quote(version)} is not a valid semantic version", fix: $"set ociVersion to {Quote(SpecVersion.Current)}");
        }
        else if (major != 1)
        {
            diagnostics.Error("ociVersion", $"unsupported version {Quote(version)}: only 1.x is supported", fix: $"set ociVersion to {Quote(SpecVersion.Current)}");
        }
    }

    private static void CheckRoot(Root? root, string bundleDirectory, DiagnosticList diagnostics)
    {
        if (root is null)
        {
            diagnostics.Error("root", "must be set", fix: "set root.path to the root filesystem's directory, such as \"rootfs\" in the bundle");
            return;
        }
        if (string.IsNullOrEmpty(root.Path))
        {
            diagnostics.Error("root.path", "must be set", fix: "set root.path to the root filesystem's directory, such as \"rootfs\" in the bundle");
            return;
        }
        var rootfs = Bundle.ResolveRootfs(bundleDirectory, root);
        if (!Directory.Exists(rootfs))
        {
            diagnostics.Error("root.path", $"rootfs {rootfs} does not exist", fix: "create that directory, or point root.path at the root filesystem (relative paths are taken from the bundle)");
        }
    }

    private static void CheckUts(Spec spec, NamespaceConfig namespaces, DiagnosticList diagnostics)
    {
        if (!string.IsNullOrEmpty(spec.Hostname) && !namespaces.Has(NamespaceType.Uts))
        {
            diagnostics.Error("hostname", "setting the hostname requires a uts namespace", fix: AddNamespace(NamespaceType.Uts));
        }
        if (!string.IsNullOrEmpty(spec.Domainname) && !namespaces.Has(NamespaceType.Uts))
        {
            diagnostics.Error("domainname", "setting the domainname requires a uts namespace", fix: AddNamespace(NamespaceType.Uts));
        }
    }

    private static string AddNamespace(string type) => $"add {{\"type\": \"{type}\"}} to linux.namespaces";

    private static void CheckMounts(List<Mount>? mounts, DiagnosticList diagnostics)
    {
        for (var i = 0; i < (mounts?.Count ?? 0); i++)
        {
            var mount = mounts![i];
            var path = $"mounts[{i}]";
            if (string.IsNullOrEmpty(mount.Destination))
            {
                diagnostics.Error($"{path}.destination", "must be set");
            }
            else if (mount.Destination.Contains('\0'))
            {
                diagnostics.Error($"{path}.destination", "contains a NUL byte");
            }

            var hasUidMappings = mount.UidMappings is { Count: > 0 };
            var hasGidMappings = mount.GidMappings is { Count: > 0 };
            if (!hasUidMappings && !hasGidMappings)
            {
                continue;
            }
            if (hasUidMappings != hasGidMappings)
            {
                diagnostics.Error(path, "an id-mapped mount needs both uidMappings and gidMappings",
                    fix: hasUidMappings ? "add gidMappings" : "add uidMappings");
                continue;
            }
            // The kernel can only attach an id mapping to a detached bind mount.
            if (!mount.IsBind())
            {
                diagnostics.Error(path, "id-mapped mounts are only supported for bind mounts");
                continue;
            }
            CheckMappingSizes(mount.UidMappings, $"{path}.uidMappings", diagnostics);
            CheckMappingSizes(mount.GidMappings, $"{path}.gidMappings", diagnostics);
        }
    }

    private static void CheckHooks(Hooks? hooks, DiagnosticList diagnostics)
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
                    diagnostics.Error($"{path}.path", "must be set");
                }
                else if (!IsAbsolute(hook.Path))
                {
                    diagnostics.Error($"{path}.path", $"must be an absolute path, got {Quote(hook.Path)}");
                }
                if (hook.Timeout is <= 0)
                {
                    diagnostics.Error($"{path}.timeout", $"must be greater than zero, got {hook.Timeout}", fix: $"remove {path}.timeout, or give a number of seconds");
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

    private static void CheckProcess(Process? process, bool requireProcess, DiagnosticList diagnostics)
    {
        if (process is null)
        {
            if (requireProcess)
            {
                diagnostics.Error("process", "must be set", fix: "add a process with args and cwd");
            }
            return;
        }

        if (requireProcess && process.Args is not { Count: > 0 })
        {
            diagnostics.Error("process.args", "must not be empty", fix: "set process.args to the program and its arguments");
        }
        if (string.IsNullOrEmpty(process.Cwd))
        {
            diagnostics.Error("process.cwd", "must be set", fix: "set process.cwd to an absolute path in the container, such as \"/\"");
        }
        else if (!IsAbsolute(process.Cwd))
        {
            diagnostics.Error("process.cwd", $"must be an absolute path, got {Quote(process.Cwd)}", fix: $"use {Quote("/" + process.Cwd)}");
        }

        CheckEnvironment(process.Env, "process.env", diagnostics);
        // No rule for process.capabilities: an unknown name is warned about and dropped by the
        // runtime, like every capability it cannot grant (runtime-spec 1.1+, runc, crun).
        CheckRlimits(process.Rlimits, diagnostics);

        if (process.OomScoreAdj is { } oomScoreAdj && (oomScoreAdj < -1000 || oomScoreAdj > 1000))
        {
            diagnostics.Error("process.oomScoreAdj", $"{oomScoreAdj} is outside the range -1000..1000", fix: $"use {Math.Clamp(oomScoreAdj, -1000, 1000)}");
        }
        if (process.Scheduler is { } scheduler)
        {
            CheckScheduler(scheduler, diagnostics);
        }
        if (process.IoPriority is { } ioPriority)
        {
            if (!IoPriorityClasses.Contains(ioPriority.Class))
            {
                diagnostics.Error("process.ioPriority.class", $"unknown class {Quote(ioPriority.Class)}", fix: "use IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE");
            }
            if (ioPriority.Priority is < 0 or > 7)
            {
                diagnostics.Error("process.ioPriority.priority", $"{ioPriority.Priority} is outside the range 0..7");
            }
        }
        if (process.ExecCpuAffinity is { } affinity)
        {
            CheckCpuList(affinity.Initial, "process.execCPUAffinity.initial", diagnostics);
            CheckCpuList(affinity.Final, "process.execCPUAffinity.final", diagnostics);
        }
    }

    private static void CheckEnvironment(List<string>? env, string path, DiagnosticList diagnostics)
    {
        for (var i = 0; i < (env?.Count ?? 0); i++)
        {
            var entry = env![i];
            var equals = entry.IndexOf('=');
            if (equals < 0)
            {
                diagnostics.Error($"{path}[{i}]", $"{Quote(entry)} is not of the form KEY=VALUE", fix: $"use {Quote(entry + "=")} for an empty value");
            }
            else if (equals == 0)
            {
                diagnostics.Error($"{path}[{i}]", $"{Quote(entry)} has an empty variable name");
            }
            else if (entry.Contains('\0'))
            {
                diagnostics.Error($"{path}[{i}]", "contains a NUL byte");
            }
        }
    }

    private static void CheckRlimits(List<PosixRlimit>? rlimits, DiagnosticList diagnostics)
    {
        if (rlimits is not { Count: > 0 })
        {
            return;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < rlimits.Count; i++)
        {
            var rlimit = rlimits[i];
            var path = $"process.rlimits[{i}]";
            if (!Rlimits.IsKnown(rlimit.Type))
            {
                diagnostics.Error($"{path}.type", $"unknown rlimit type {Quote(rlimit.Type)}");
            }
            else if (!seen.Add(rlimit.Type))
            {
                diagnostics.Error($"{path}.type", $"duplicate rlimit type {Quote(rlimit.Type)}", fix: $"keep one entry for {rlimit.Type}");
            }
            if (rlimit.Soft > rlimit.Hard)
            {
                diagnostics.Error(path, $"soft limit {rlimit.Soft} exceeds hard limit {rlimit.Hard}", fix: $"raise hard to at least {rlimit.Soft}, or lower soft to at most {rlimit.Hard}");
            }
        }
    }

    // Mirrors what sched_setattr(2) accepts for each policy.
    private static void CheckScheduler(Scheduler scheduler, DiagnosticList diagnostics)
    {
        const string path = "process.scheduler";
        var knownPolicy = SchedulerPolicies.Contains(scheduler.Policy);
        if (!knownPolicy)
        {
            diagnostics.Error($"{path}.policy", $"unknown policy {Quote(scheduler.Policy)}");
        }
        if (scheduler.Nice is { } nice && (nice < -20 || nice > 19))
        {
            diagnostics.Error($"{path}.nice", $"{nice} is outside the range -20..19", fix: $"use {Math.Clamp(nice, -20, 19)}");
        }
        // The rules below depend on the policy: with an unknown one they would only repeat that.
        if (knownPolicy && scheduler.Priority is { } priority and not 0 && scheduler.Policy is not ("SCHED_FIFO" or "SCHED_RR"))
        {
            diagnostics.Error($"{path}.priority", $"{priority} can only be set with SCHED_FIFO or SCHED_RR");
        }
        var hasDeadlineParameters = scheduler.Runtime is not (null or 0)
            || scheduler.Deadline is not (null or 0)
            || scheduler.Period is not (null or 0);
        if (knownPolicy && hasDeadlineParameters && scheduler.Policy != "SCHED_DEADLINE")
        {
            diagnostics.Error(path, "runtime, deadline and period can only be set with SCHED_DEADLINE");
        }
        for (var i = 0; i < (scheduler.Flags?.Count ?? 0); i++)
        {
            if (!SchedulerFlags.Contains(scheduler.Flags![i]))
            {
                diagnostics.Error($"{path}.flags[{i}]", $"unknown flag {Quote(scheduler.Flags[i])}");
            }
        }
    }

    // A cpuset-style list such as "0-3,7": numbers, ranges, commas (spaces tolerated like the schema does).
    private static void CheckCpuList(string? list, string path, DiagnosticList diagnostics)
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
                diagnostics.Error(path, $"{Quote(list)} is not a CPU list like \"0-3,7\"");
                return;
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

    private static NamespaceConfig CheckNamespaces(List<LinuxNamespace>? namespaces, DiagnosticList diagnostics)
    {
        var paths = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < (namespaces?.Count ?? 0); i++)
        {
            var ns = namespaces![i];
            var path = $"linux.namespaces[{i}]";
            if (string.IsNullOrEmpty(ns.Type))
            {
                diagnostics.Error($"{path}.type", "must be set");
                continue;
            }
            if (!NamespaceType.IsKnown(ns.Type))
            {
                diagnostics.Error($"{path}.type", $"unknown namespace type {Quote(ns.Type)}");
                continue;
            }
            if (paths.ContainsKey(ns.Type))
            {
                diagnostics.Error($"{path}.type", $"duplicate namespace type {Quote(ns.Type)}", fix: $"keep one {ns.Type} entry");
                continue;
            }
            if (!string.IsNullOrEmpty(ns.Path) && !IsAbsolute(ns.Path))
            {
                diagnostics.Error($"{path}.path", $"must be an absolute path, got {Quote(ns.Path)}");
            }
            paths[ns.Type] = string.IsNullOrEmpty(ns.Path) ? null : ns.Path;
        }
        return new NamespaceConfig(paths);
    }

    private static void CheckLinux(Linux linux, Spec spec, NamespaceConfig namespaces, DiagnosticList diagnostics)
    {
        CheckUserNamespace(linux, spec.Process, namespaces, diagnostics);
        CheckTimeOffsets(linux.TimeOffsets, namespaces, diagnostics);
        CheckDevices(linux.Devices, diagnostics);
        if (linux.Resources is { } resources)
        {
            CheckResources(resources, diagnostics);
        }
        if (linux.IntelRdt is { } intelRdt)
        {
            CheckIntelRdt(intelRdt, diagnostics);
        }
        CheckSysctls(linux.Sysctl, spec, namespaces, diagnostics);
        if (linux.Seccomp is { } seccomp)
        {
            CheckSeccomp(seccomp, diagnostics);
        }
        CheckRootfsPropagation(linux.RootfsPropagation, diagnostics);
        CheckRestrictedPaths(linux.MaskedPaths, "linux.maskedPaths", namespaces, diagnostics);
        CheckRestrictedPaths(linux.ReadonlyPaths, "linux.readonlyPaths", namespaces, diagnostics);
        if (linux.Personality is { } personality)
        {
            CheckPersonality(personality, diagnostics);
        }
        CheckNetDevices(linux.NetDevices, namespaces, diagnostics);
    }

    private static void CheckUserNamespace(Linux linux, Process? process, NamespaceConfig namespaces, DiagnosticList diagnostics)
    {
        var uidMappings = linux.UidMappings;
        var gidMappings = linux.GidMappings;
        var hasUidMappings = uidMappings is { Count: > 0 };
        var hasGidMappings = gidMappings is { Count: > 0 };

        if (!namespaces.Has(NamespaceType.User))
        {
            if (hasUidMappings)
            {
                diagnostics.Error("linux.uidMappings", "id mappings require a user namespace", fix: AddNamespace(NamespaceType.User));
            }
            if (hasGidMappings)
            {
                diagnostics.Error("linux.gidMappings", "id mappings require a user namespace", fix: AddNamespace(NamespaceType.User));
            }
            return;
        }

        CheckMappingSizes(uidMappings, "linux.uidMappings", diagnostics);
        CheckMappingSizes(gidMappings, "linux.gidMappings", diagnostics);

        // Joining an existing user namespace may come with mappings (the runtime checks they match), or without.
        // An unmapped root is reported once, not again for a process that runs as root.
        var uidRootUnmapped = false;
        var gidRootUnmapped = false;
        if (namespaces.IsNew(NamespaceType.User))
        {
            if (!hasUidMappings)
            {
                diagnostics.Error("linux.uidMappings", "a new user namespace requires uid mappings");
            }
            if (!hasGidMappings)
            {
                diagnostics.Error("linux.gidMappings", "a new user namespace requires gid mappings");
            }
            if (hasUidMappings && !IsMapped(uidMappings!, 0))
            {
                uidRootUnmapped = true;
                diagnostics.Error("linux.uidMappings", "container root (uid 0) is not mapped", fix: "add a mapping with containerID 0");
            }
            if (hasGidMappings && !IsMapped(gidMappings!, 0))
            {
                gidRootUnmapped = true;
                diagnostics.Error("linux.gidMappings", "container root (gid 0) is not mapped", fix: "add a mapping with containerID 0");
            }
        }

        // setuid/setgid to an unmapped id fails inside the namespace; report it against the field instead.
        if (process is null)
        {
            return;
        }
        if (hasUidMappings && !(uidRootUnmapped && process.User.Uid == 0) && !IsMapped(uidMappings!, process.User.Uid))
        {
            diagnostics.Error("process.user.uid", $"uid {process.User.Uid} is not mapped in the user namespace");
        }
        if (hasGidMappings)
        {
            if (!(gidRootUnmapped && process.User.Gid == 0) && !IsMapped(gidMappings!, process.User.Gid))
            {
                diagnostics.Error("process.user.gid", $"gid {process.User.Gid} is not mapped in the user namespace");
            }
            for (var i = 0; i < (process.User.AdditionalGids?.Count ?? 0); i++)
            {
                var gid = process.User.AdditionalGids![i];
                if (!(gidRootUnmapped && gid == 0) && !IsMapped(gidMappings!, gid))
                {
                    diagnostics.Error($"process.user.additionalGids[{i}]", $"gid {gid} is not mapped in the user namespace");
                }
            }
        }
    }

    private static bool IsMapped(List<LinuxIdMapping> mappings, uint containerId)
    {
        foreach (var m in mappings)
        {
            if (containerId >= m.ContainerId && (ulong)containerId < (ulong)m.ContainerId + m.Size)
            {
                return true;
            }
        }
        return false;
    }

    private static void CheckMappingSizes(List<LinuxIdMapping>? mappings, string path, DiagnosticList diagnostics)
    {
        for (var i = 0; i < (mappings?.Count ?? 0); i++)
        {
            if (mappings![i].Size == 0)
            {
                diagnostics.Error($"{path}[{i}].size", "must be greater than zero");
            }
        }
    }

    private static void CheckTimeOffsets(Dictionary<string, LinuxTimeOffset>? offsets, NamespaceConfig namespaces, DiagnosticList diagnostics)
    {
        if (offsets is not { Count: > 0 })
        {
            return;
        }
        if (!namespaces.Has(NamespaceType.Time))
        {
            diagnostics.Error("linux.timeOffsets", "requires a time namespace", fix: AddNamespace(NamespaceType.Time));
            return;
        }
        // Offsets can only be written before the first process enters a time namespace.
        if (namespaces.IsJoined(NamespaceType.Time))
        {
            diagnostics.Error("linux.timeOffsets", "cannot be set when joining an existing time namespace");
            return;
        }
        foreach (var (clock, offset) in offsets)
        {
            if (clock is not ("monotonic" or "boottime"))
            {
                diagnostics.Error("linux.timeOffsets", $"unknown clock {Quote(clock)} (expected monotonic or boottime)");
            }
            else if (offset.Nanosecs >= 1_000_000_000)
            {
                diagnostics.Error($"linux.timeOffsets.{clock}.nanosecs", $"{offset.Nanosecs} must be less than 1000000000",
                    fix: $"move whole seconds into linux.timeOffsets.{clock}.secs");
            }
        }
    }

    private static void CheckDevices(List<LinuxDevice>? devices, DiagnosticList diagnostics)
    {
        for (var i = 0; i < (devices?.Count ?? 0); i++)
        {
            var device = devices![i];
            var path = $"linux.devices[{i}]";
            var knownType = device.Type is "c" or "b" or "u" or "p";
            if (!knownType)
            {
                diagnostics.Error($"{path}.type", $"unknown device type {Quote(device.Type)} (expected c, b, u or p)");
            }
            if (string.IsNullOrEmpty(device.Path))
            {
                diagnostics.Error($"{path}.path", "must be set");
            }
            else if (!IsAbsolute(device.Path))
            {
                diagnostics.Error($"{path}.path", $"must be an absolute path, got {Quote(device.Path)}", fix: $"use {Quote("/" + device.Path)}");
            }
            if (knownType && device.Type != "p")
            {
                if (device.Major is null)
                {
                    diagnostics.Error($"{path}.major", $"required for device type {device.Type}");
                }
                if (device.Minor is null)
                {
                    diagnostics.Error($"{path}.minor", $"required for device type {device.Type}");
                }
            }
            if (device.Major is < 0)
            {
                diagnostics.Error($"{path}.major", $"must not be negative, got {device.Major}");
            }
            if (device.Minor is < 0)
            {
                diagnostics.Error($"{path}.minor", $"must not be negative, got {device.Minor}");
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
                    diagnostics.Error($"{path}.fileMode", $"0{Convert.ToString(fileMode, 8)} has file type bits 0{Convert.ToString(fileType, 8)}, which are not those of device type {Quote(device.Type)} (0{Convert.ToString(expected, 8)})");
                }
            }
        }
    }

    private static void CheckResources(LinuxResources resources, DiagnosticList diagnostics)
    {
        const string path = "linux.resources";
        for (var i = 0; i < (resources.Devices?.Count ?? 0); i++)
        {
            var rule = resources.Devices![i];
            if (rule.Type is not (null or "" or "a" or "b" or "c"))
            {
                diagnostics.Error($"{path}.devices[{i}].type", $"unknown device type {Quote(rule.Type)} (expected a, b or c)");
            }
            if (rule.Access is { } access && !access.All(c => c is 'r' or 'w' or 'm'))
            {
                diagnostics.Error($"{path}.devices[{i}].access", $"{Quote(access)} may only contain r, w and m");
            }
        }

        if (resources.Memory?.Swappiness is > 100)
        {
            diagnostics.Error($"{path}.memory.swappiness", $"{resources.Memory.Swappiness} is outside the range 0..100", fix: "use a value from 0 to 100");
        }
        if (resources.Cpu?.Idle is { } idle and not (0 or 1))
        {
            diagnostics.Error($"{path}.cpu.idle", $"must be 0 or 1, got {idle}");
        }

        if (resources.BlockIo?.WeightDevice is { } weightDevices)
        {
            for (var i = 0; i < weightDevices.Count; i++)
            {
                if (weightDevices[i].Weight is null && weightDevices[i].LeafWeight is null)
                {
                    diagnostics.Error($"{path}.blockIO.weightDevice[{i}]", "at least one of weight or leafWeight must be set");
                }
            }
        }

        for (var i = 0; i < (resources.HugepageLimits?.Count ?? 0); i++)
        {
            var pageSize = resources.HugepageLimits![i].PageSize;
            if (!IsHugepageSize(pageSize))
            {
                diagnostics.Error($"{path}.hugepageLimits[{i}].pageSize", $"{Quote(pageSize)} is not a size like 2MB or 1GB");
            }
        }

        for (var i = 0; i < (resources.Network?.Priorities?.Count ?? 0); i++)
        {
            if (string.IsNullOrEmpty(resources.Network!.Priorities![i].Name))
            {
                diagnostics.Error($"{path}.network.priorities[{i}].name", "must be set");
            }
        }

        foreach (var (device, limit) in resources.Rdma ?? [])
        {
            if (limit.HcaHandles is null && limit.HcaObjects is null)
            {
                diagnostics.Error($"{path}.rdma[{Quote(device)}]", "at least one of hcaHandles or hcaObjects must be set");
            }
        }

        foreach (var key in resources.Unified?.Keys ?? Enumerable.Empty<string>())
        {
            // Keys name files inside the container's cgroup directory; a slash would escape it.
            if (key.Length == 0 || key.Contains('/') || key is "." or "..")
            {
                diagnostics.Error($"{path}.unified[{Quote(key)}]", "must be a cgroup interface file name");
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

    private static void CheckIntelRdt(LinuxIntelRdt intelRdt, DiagnosticList diagnostics)
    {
        // closID names a directory under /sys/fs/resctrl.
        if (intelRdt.ClosId is { } closId && (closId is "." or ".." || closId.Contains('/')))
        {
            diagnostics.Error("linux.intelRdt.closID", $"{Quote(closId)} is not a valid resctrl group name");
        }
        if (intelRdt.MemBwSchema is { } memBwSchema
            && (!memBwSchema.StartsWith("MB:", StringComparison.Ordinal) || memBwSchema.Contains('\n')))
        {
            diagnostics.Error("linux.intelRdt.memBwSchema", "must start with \"MB:\" and be a single line");
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
    private static void CheckSysctls(Dictionary<string, string>? sysctls, Spec spec, NamespaceConfig namespaces, DiagnosticList diagnostics)
    {
        foreach (var key in sysctls?.Keys ?? Enumerable.Empty<string>())
        {
            var path = $"linux.sysctl[{Quote(key)}]";
            var name = NormalizeSysctlName(key);
            if (IpcSysctls.Contains(name) || name.StartsWith("fs.mqueue.", StringComparison.Ordinal))
            {
                if (!namespaces.Has(NamespaceType.Ipc))
                {
                    diagnostics.Error(path, "requires an ipc namespace", fix: AddNamespace(NamespaceType.Ipc));
                }
                continue;
            }
            if (name.StartsWith("net.", StringComparison.Ordinal))
            {
                if (!namespaces.Has(NamespaceType.Network))
                {
                    diagnostics.Error(path, "requires a network namespace", fix: AddNamespace(NamespaceType.Network));
                }
                continue;
            }
            if (name is "kernel.hostname" or "kernel.domainname")
            {
                if (!namespaces.Has(NamespaceType.Uts))
                {
                    diagnostics.Error(path, "requires a uts namespace");
                    continue;
                }
                // The dedicated fields win; setting both would make the result depend on ordering.
                if (name == "kernel.hostname")
                {
                    diagnostics.Error(path, "conflicts with the hostname field; set hostname instead");
                    continue;
                }
                // The same value twice is harmless (runc and crun accept it); only a conflict is refused.
                if (!string.IsNullOrEmpty(spec.Domainname) && sysctls![key] is var value && value != spec.Domainname)
                {
                    diagnostics.Error(path, $"{Quote(value)} conflicts with the domainname field {Quote(spec.Domainname)}");
                }
                continue;
            }
            if (name.StartsWith("user.", StringComparison.Ordinal))
            {
                // ucounts are per user namespace; without one they would change host-wide limits.
                if (!namespaces.Has(NamespaceType.User))
                {
                    diagnostics.Error(path, "requires a user namespace", fix: AddNamespace(NamespaceType.User));
                }
                continue;
            }
            diagnostics.Error(path, "is not namespaced and cannot be set for a container");
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

    private static void CheckSeccomp(LinuxSeccomp seccomp, DiagnosticList diagnostics)
    {
        const string path = "linux.seccomp";
        if (string.IsNullOrEmpty(seccomp.DefaultAction))
        {
            diagnostics.Error($"{path}.defaultAction", "must be set", fix: "set linux.seccomp.defaultAction, such as SCMP_ACT_ERRNO");
        }
        else if (!SeccompNames.IsAction(seccomp.DefaultAction))
        {
            diagnostics.Error($"{path}.defaultAction", $"unknown action {Quote(seccomp.DefaultAction)}");
        }
        // Notifying on every syscall would also trap the runtime's own calls that hand the listener fd over.
        else if (seccomp.DefaultAction == SeccompNames.ActNotify)
        {
            diagnostics.Error($"{path}.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action",
                fix: "use SCMP_ACT_NOTIFY in syscalls rules for the calls to notify");
        }
        else if (seccomp.DefaultErrnoRet is not null && !SeccompNames.ActionTakesErrno(seccomp.DefaultAction))
        {
            diagnostics.Error($"{path}.defaultErrnoRet", $"cannot be used with {seccomp.DefaultAction}", fix: "remove linux.seccomp.defaultErrnoRet");
        }

        for (var i = 0; i < (seccomp.Architectures?.Count ?? 0); i++)
        {
            if (!SeccompNames.IsArchitecture(seccomp.Architectures![i]))
            {
                diagnostics.Error($"{path}.architectures[{i}]", $"unknown architecture {Quote(seccomp.Architectures[i])}");
            }
        }
        for (var i = 0; i < (seccomp.Flags?.Count ?? 0); i++)
        {
            if (!SeccompNames.IsFlag(seccomp.Flags![i]))
            {
                diagnostics.Error($"{path}.flags[{i}]", $"unknown flag {Quote(seccomp.Flags[i])}");
            }
        }
        if (!string.IsNullOrEmpty(seccomp.ListenerMetadata) && string.IsNullOrEmpty(seccomp.ListenerPath))
        {
            diagnostics.Error($"{path}.listenerMetadata", "requires listenerPath", fix: "set linux.seccomp.listenerPath, or remove listenerMetadata");
        }
        if (!string.IsNullOrEmpty(seccomp.ListenerPath) && !IsAbsolute(seccomp.ListenerPath))
        {
            diagnostics.Error($"{path}.listenerPath", $"must be an absolute path, got {Quote(seccomp.ListenerPath)}");
        }

        for (var i = 0; i < (seccomp.Syscalls?.Count ?? 0); i++)
        {
            CheckSyscallRule(seccomp.Syscalls![i], $"{path}.syscalls[{i}]", seccomp, diagnostics);
        }
    }

    private static void CheckSyscallRule(LinuxSyscall rule, string path, LinuxSeccomp seccomp, DiagnosticList diagnostics)
    {
        if (rule.Names.Count == 0)
        {
            diagnostics.Error($"{path}.names", "must contain at least one syscall name");
        }
        for (var i = 0; i < rule.Names.Count; i++)
        {
            if (string.IsNullOrEmpty(rule.Names[i]))
            {
                diagnostics.Error($"{path}.names[{i}]", "must not be empty");
            }
        }
        if (string.IsNullOrEmpty(rule.Action))
        {
            diagnostics.Error($"{path}.action", "must be set");
        }
        else if (!SeccompNames.IsAction(rule.Action))
        {
            diagnostics.Error($"{path}.action", $"unknown action {Quote(rule.Action)}");
        }
        else
        {
            if (rule.ErrnoRet is not null && !SeccompNames.ActionTakesErrno(rule.Action))
            {
                diagnostics.Error($"{path}.errnoRet", $"cannot be used with {rule.Action}", fix: $"remove {path}.errnoRet");
            }
            if (rule.Action == SeccompNames.ActNotify)
            {
                if (string.IsNullOrEmpty(seccomp.ListenerPath))
                {
                    diagnostics.Error($"{path}.action", "SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath", fix: "set linux.seccomp.listenerPath to the agent's socket");
                }
                // The runtime itself writes to the container's stdio after the filter is loaded.
                else if (rule.Names.Contains("write"))
                {
                    diagnostics.Error($"{path}.action", "SCMP_ACT_NOTIFY cannot be used for the write syscall", fix: "move write into a rule with another action");
                }
            }
        }
        for (var i = 0; i < (rule.Args?.Count ?? 0); i++)
        {
            var arg = rule.Args![i];
            // Syscalls take at most six arguments.
            if (arg.Index > 5)
            {
                diagnostics.Error($"{path}.args[{i}].index", $"{arg.Index} is outside the range 0..5");
            }
            if (!SeccompNames.IsOperator(arg.Op))
            {
                diagnostics.Error($"{path}.args[{i}].op", $"unknown operator {Quote(arg.Op)}");
            }
        }
    }

    private static readonly string[] RootfsPropagationModes =
        ["", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"];

    private static void CheckRootfsPropagation(string? propagation, DiagnosticList diagnostics)
    {
        if (propagation is not null && !RootfsPropagationModes.Contains(propagation))
        {
            diagnostics.Error("linux.rootfsPropagation", $"unknown propagation {Quote(propagation)}");
        }
    }

    private static void CheckRestrictedPaths(List<string>? paths, string fieldPath, NamespaceConfig namespaces, DiagnosticList diagnostics)
    {
        if (paths is not { Count: > 0 })
        {
            return;
        }
        // Masking or remounting read-only without a private mount namespace would change the host.
        if (!namespaces.Has(NamespaceType.Mount))
        {
            diagnostics.Error(fieldPath, "requires a mount namespace", fix: AddNamespace(NamespaceType.Mount));
            return;
        }
        for (var i = 0; i < paths.Count; i++)
        {
            if (!IsAbsolute(paths[i]))
            {
                diagnostics.Error($"{fieldPath}[{i}]", $"must be an absolute path, got {Quote(paths[i])}", fix: $"use {Quote("/" + paths[i])}");
            }
        }
    }

    private static void CheckPersonality(LinuxPersonality personality, DiagnosticList diagnostics)
    {
        if (personality.Domain is not ("LINUX" or "LINUX32"))
        {
            diagnostics.Error("linux.personality.domain", $"unknown domain {Quote(personality.Domain)} (expected LINUX or LINUX32)");
        }
        // runtime-spec 1.2: "Currently no flag values are supported."
        if (personality.Flags is { Count: > 0 })
        {
            diagnostics.Error("linux.personality.flags", $"unsupported flag {Quote(personality.Flags[0])}", fix: "remove linux.personality.flags");
        }
    }

    private static void CheckNetDevices(Dictionary<string, LinuxNetDevice>? netDevices, NamespaceConfig namespaces, DiagnosticList diagnostics)
    {
        if (netDevices is not { Count: > 0 })
        {
            return;
        }
        if (!namespaces.Has(NamespaceType.Network))
        {
            diagnostics.Error("linux.netDevices", "moving network devices requires a network namespace", fix: AddNamespace(NamespaceType.Network));
            return;
        }
        foreach (var (hostName, device) in netDevices)
        {
            var path = $"linux.netDevices[{Quote(hostName)}]";
            if (!IsValidInterfaceName(hostName))
            {
                diagnostics.Error(path, $"{Quote(hostName)} is not a valid network interface name");
            }
            if (!string.IsNullOrEmpty(device.Name) && !IsValidInterfaceName(device.Name))
            {
                diagnostics.Error($"{path}.name", $"{Quote(device.Name)} is not a valid network interface name");
            }
        }
    }

    // The kernel's dev_valid_name(): at most IFNAMSIZ-1 (15) bytes, not "." or "..", no '/', ':' or whitespace.
    private static bool IsValidInterfaceName(string name) =>
        name.Length is > 0 and <= 15
        && name is not ("." or "..")
        && !name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c));
}
