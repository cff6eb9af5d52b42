using Moat.Oci;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Create;
using Moat.Runtime.Exec;
using Moat.Runtime.Host;
using Moat.Runtime.Lifecycle;
using Moat.Runtime.State;
using ContainerStatus = Moat.Runtime.State.ContainerStatus;

namespace Moat.Runtime.Tiers;

/// <summary>The container tier: namespaces, cgroups, capabilities, seccomp; what runc and crun give, and the base of the other tiers.</summary>
public sealed class ContainerTier(StateStore store, HostContext host, Action<string> warn, Action<string>? debug) : IIsolationTier
{
    readonly ContainerLifecycle lifecycle = new(CgroupDrivers.For(host, warn), warn);

    ICgroupDriver Cgroups => lifecycle.Cgroups;

    public Isolation Isolation => Isolation.Container;

    public ContainerCreator.Created Create(CreateOptions options, string bundle, Spec spec) =>
        new ContainerCreator(store, debug, warn).Create(options, bundle, spec);

    public void Start(LocatedContainer container) => lifecycle.Start(container.Directory, container.View);

    public void Kill(LocatedContainer container, int signal, bool all) => lifecycle.Kill(container.View, signal, all);

    public void Delete(LocatedContainer container, bool force) => lifecycle.Delete(container.Directory, container.View, force);

    public ContainerExec.Started Exec(ContainerView container, ExecOptions options) =>
        new ContainerExec(store, debug, warn).Start(container, options);

    public void Pause(LocatedContainer container) => lifecycle.Pause(container.View);

    public void Resume(LocatedContainer container) => lifecycle.Resume(container.View);

    public void Update(LocatedContainer container, LinuxResources changes) =>
        ContainerUpdate.Apply(container.Directory, container.View, changes, warn);

    public IReadOnlyList<int> Processes(ContainerView container) =>
        container.State is { } state ? Cgroups.Pids(state.CgroupDirectories) : [];

    public CgroupStats Stats(ContainerView container) => CgroupStats.Read(CgroupOf(container));

    public OomWatcher WatchOom(ContainerView container) => new(CgroupOf(container));

    public void RunPoststart(RuntimeState state) => lifecycle.RunPoststart(state);

    ContainerCgroup CgroupOf(ContainerView container)
    {
        if (container.Status is ContainerStatus.Stopped or ContainerStatus.Creating || container.State is null)
            throw new RuntimeException("container not running");
        return Cgroups.Open(container.State.CgroupPath);
    }
}
