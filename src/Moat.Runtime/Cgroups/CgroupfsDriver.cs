using Moat.Oci;

namespace Moat.Runtime.Cgroups;

/// <summary>The driver that writes cgroupfs itself: v1 hierarchies, the v2 unified one, or both.</summary>
public sealed class CgroupfsDriver(CgroupHost host, Action<string>? warn = null) : ICgroupDriver
{
    public string Name => "cgroupfs";

    public CgroupHost Host { get; } = host;

    public string ResolvePath(string? cgroupsPath, string containerId) => CgroupHost.ResolvePath(cgroupsPath, containerId);

    public ContainerCgroup Open(string path) => ContainerCgroup.For(Host, path, warn);

    public void Validate(ContainerCgroup cgroup, LinuxResources? resources) => cgroup.Resources.Validate(resources);

    public void Create(ContainerCgroup cgroup) => cgroup.Create();

    public void Apply(ContainerCgroup cgroup, LinuxResources? resources) => cgroup.Resources.Apply(resources);

    public void Update(ContainerCgroup cgroup, LinuxResources changes) => cgroup.Resources.Update(changes);

    public void AddProcess(ContainerCgroup cgroup, int pid, bool includeUnified) => cgroup.AddProcess(pid, includeUnified);

    public void SetFrozen(IReadOnlyList<string> directories, bool frozen) => Lifecycle.Freezer.Set(directories, frozen);

    public IReadOnlyList<int> Pids(IReadOnlyList<string> directories) => ContainerCgroup.Pids(directories);

    public void Destroy(IReadOnlyList<string> directories) => ContainerCgroup.Destroy(directories);
}
