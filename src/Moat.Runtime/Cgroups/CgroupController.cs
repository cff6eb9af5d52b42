namespace Moat.Runtime.Cgroups;

/// <summary>
/// Where one controller's files are for a container: its directory in a v1 hierarchy, or in the
/// unified (v2) one. <see cref="Name"/> is the controller's name in that hierarchy ("blkio" on v1 is
/// "io" on v2), so the file names and value formats follow <see cref="IsV2"/>.
/// </summary>
public sealed record CgroupController(string Name, string Directory, CgroupHierarchy Hierarchy)
{
    public bool IsV2 => Hierarchy.IsV2;

    public string PathOf(string file) => System.IO.Path.Combine(Directory, file);

    /// <summary>The v2 name of a v1 controller, or null when cgroup v2 has no such controller.</summary>
    public static string? V2Name(string v1Name) => v1Name switch
    {
        "cpu" or "cpuacct" => "cpu",
        "blkio" => "io",
        "cpuset" or "memory" or "pids" or "hugetlb" or "rdma" or "misc" => v1Name,
        _ => null, // net_cls, net_prio, devices (a BPF program on v2), freezer (core on v2), perf_event
    };
}

/// <summary>A v2 controller that cannot be enabled for the container.</summary>
public sealed class CgroupControllerException(string controller, string message) : RuntimeException(message)
{
    public string Controller { get; } = controller;
}
