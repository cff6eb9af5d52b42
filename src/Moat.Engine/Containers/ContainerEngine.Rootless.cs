using System.Globalization;
using Moat.Engine.Run;
using Moat.Images.Storage;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Engine.Containers;

/// <summary>
/// What differs when a user runs the engine (docs/rootless.md): limits only in a cgroup delegated to the user,
/// and no networks of Moat's (their bridges, veths and firewall rules are root's).
/// </summary>
public sealed partial class ContainerEngine
{
    /// <summary>Where a user's containers' cgroups go: `/moat-UID/ID` in every hierarchy (v1) or in the v2 tree, when root delegated that directory.</summary>
    public static string RootlessCgroupParent => "/moat-" + RootlessIdentity.HostUid.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Limits for a user's container: the cgroup goes under <see cref="RootlessCgroupParent"/>; a limit whose
    /// controller is not delegated there is refused with how to get delegation, or with --ignore-limits dropped
    /// with a warning. The default pids limit is left out quietly where pids is not delegated (podman's rootless
    /// cgroupfs mode does the same): the user did not ask for it, and refusing it would refuse every container.
    /// </summary>
    void ApplyRootlessLimits(Spec spec, RunRequest request, string id)
    {
        if (!RootlessIdentity.Active)
            return;
        spec.Linux ??= new Linux();
        spec.Linux.CgroupsPath = $"{RootlessCgroupParent}/{id}";
        var resources = spec.Linux.Resources;
        if (resources is null)
            return;
        if (!request.PidsLimitGiven && resources.Pids is not null && !RootlessCgroupDelegation.Has("pids", RootlessCgroupParent))
            resources.Pids = null;
        var missing = RootlessCgroupDelegation.Missing(resources, RootlessCgroupParent);
        if (missing.Count == 0)
            return;
        var what = string.Join(", ", missing.Select(m => $"{m.Field} ({m.Controller})"));
        if (!request.IgnoreLimits)
            throw new EngineException($"the limits {what} need a cgroup delegated to you (uid {RootlessIdentity.HostUid}) and there is none: as root, make {RootlessCgroupDelegation.Describe(RootlessCgroupParent, missing.Select(m => m.Controller))} and chown -R it to you (or, with systemd and cgroup v2, run moat in a unit with Delegate=yes there), or give --ignore-limits to run without them");
        options.Images.Warn?.Invoke($"--ignore-limits: running without {what}: no cgroup is delegated to uid {RootlessIdentity.HostUid}");
        foreach (var m in missing)
            m.Drop(resources);
    }

    /// <summary>A user's engine has no bridge networks (root's): none, host, or a clear refusal.</summary>
    static void CheckRootlessNetwork(string? mode)
    {
        if (!RootlessIdentity.Active || mode is "none" or "host")
            return;
        throw new EngineException($"--network {mode ?? "bridge"}: Moat's networks (bridges, veths, firewall rules) are root's and a user's moat cannot make them; use --network none, or host");
    }
}

/// <summary>Whether root delegated a cgroup directory to the user, per controller (a directory the user can write).</summary>
public static class RootlessCgroupDelegation
{
    const string Root = "/sys/fs/cgroup";
    static bool PureV2 => File.Exists(Path.Combine(Root, "cgroup.controllers"));

    public sealed record Need(string Field, string Controller, Action<LinuxResources> Drop);

    /// <summary>The directory of <paramref name="parent"/> for <paramref name="controller"/>: v1 per hierarchy, v2 one tree.</summary>
    public static string Directory(string controller, string parent) =>
        PureV2 ? Root + parent : $"{Root}/{controller}{parent}";

    public static bool Has(string controller, string parent)
    {
        var directory = Directory(controller, parent);
        if (Libc.access(directory, 2 /* W_OK */) != 0)
            return false;
        // v2: the controller must be enabled for the delegated directory's children.
        return !PureV2 || (Libc.TryReadText(Path.Combine(directory, "cgroup.controllers")) ?? "").Split(' ', '\n').Contains(controller);
    }

    public static string Describe(string parent, IEnumerable<string> controllers) =>
        PureV2 ? Root + parent : string.Join(", ", controllers.Distinct().Select(c => $"{Root}/{c}{parent}"));

    /// <summary>Each limit set in <paramref name="resources"/> whose controller is not delegated (devices are not limits: the runtime leaves them out).</summary>
    public static List<Need> Missing(LinuxResources resources, string parent)
    {
        var needs = new List<Need>();
        if (resources.Memory is not null)
            needs.Add(new("memory", "memory", r => r.Memory = null));
        if (resources.Cpu is { } cpu && (cpu.Shares ?? cpu.Period ?? cpu.Burst ?? (object?)cpu.Quota ?? cpu.RealtimeRuntime ?? (object?)cpu.RealtimePeriod) is not null)
            needs.Add(new("cpu shares/quota", "cpu", r => { r.Cpu!.Shares = null; r.Cpu.Quota = null; r.Cpu.Period = null; r.Cpu.Burst = null; r.Cpu.RealtimeRuntime = null; r.Cpu.RealtimePeriod = null; }));
        if (resources.Cpu is { } cpuset && (!string.IsNullOrEmpty(cpuset.Cpus) || !string.IsNullOrEmpty(cpuset.Mems)))
            needs.Add(new("cpuset", "cpuset", r => { r.Cpu!.Cpus = null; r.Cpu.Mems = null; }));
        if (resources.Pids is not null)
            needs.Add(new("pids", "pids", r => r.Pids = null));
        if (resources.BlockIo is not null)
            needs.Add(new("blkio", PureV2 ? "io" : "blkio", r => r.BlockIo = null));
        if (resources.HugepageLimits is { Count: > 0 })
            needs.Add(new("hugepages", "hugetlb", r => r.HugepageLimits = null));
        return needs.Where(n => !Has(n.Controller, parent)).ToList();
    }
}
