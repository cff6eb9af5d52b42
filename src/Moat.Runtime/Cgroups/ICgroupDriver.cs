using Moat.Oci;
using Moat.Runtime.Host;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// How a container's cgroups are named, made, limited, frozen and removed. The cgroupfs driver
/// writes the kernel's files itself (v1, v2 or a hybrid of both); a systemd driver would ask
/// systemd for a transient scope and set its properties, and still hand back cgroupfs directories
/// (state.json records those, so every later step works on directories whichever driver made them).
/// </summary>
public interface ICgroupDriver
{
    /// <summary>"cgroupfs" or "systemd", as `moat info` and runc's --systemd-cgroup name them.</summary>
    string Name { get; }

    /// <summary>The container's cgroup path from linux.cgroupsPath, in this driver's syntax.</summary>
    string ResolvePath(string? cgroupsPath, string containerId);

    /// <summary>The container's cgroup at a resolved path, in every hierarchy of the host.</summary>
    ContainerCgroup Open(string path);

    /// <summary>Refuses, before anything exists, a resource the host cannot honour (the field named).</summary>
    void Validate(ContainerCgroup cgroup, LinuxResources? resources);

    void Create(ContainerCgroup cgroup);

    /// <summary>The limits of a container being created.</summary>
    void Apply(ContainerCgroup cgroup, LinuxResources? resources);

    /// <summary>New limits for a live container: every field checked before any is written.</summary>
    void Update(ContainerCgroup cgroup, LinuxResources changes);

    void AddProcess(ContainerCgroup cgroup, int pid, bool includeUnified);

    void SetFrozen(IReadOnlyList<string> directories, bool frozen);

    IReadOnlyList<int> Pids(IReadOnlyList<string> directories);

    /// <summary>Kills what is left in the container's cgroups and removes them.</summary>
    void Destroy(IReadOnlyList<string> directories);
}

/// <summary>Picks the driver for this host and the caller's wish.</summary>
public static class CgroupDrivers
{
    /// <param name="warn">Where warnings about accepted-but-ignored fields go (stderr when null).</param>
    public static ICgroupDriver For(HostContext host, Action<string>? warn = null, bool systemd = false) =>
        systemd
            ? throw new RuntimeException("--systemd-cgroup: the systemd cgroup driver is not available in this version of moat; use cgroupfs paths")
            : new CgroupfsDriver(host.Cgroups, warn);
}
