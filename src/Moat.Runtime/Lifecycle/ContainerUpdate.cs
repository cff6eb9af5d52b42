using Moat.Oci;
using Moat.Runtime.Cgroups;
using Moat.Runtime.State;
using ContainerStatus = Moat.Runtime.State.ContainerStatus;

namespace Moat.Runtime.Lifecycle;

/// <summary>update: new linux.resources for a created, running or paused container, written to its cgroup and kept in its state.</summary>
public static class ContainerUpdate
{
    public static void Apply(StateStore store, string id, LinuxResources changes, Action<string> warn)
    {
        using var dir = store.Open(id);
        Apply(dir, ContainerView.Load(id, dir.Path), changes, warn);
    }

    /// <summary>The update of a container whose directory the caller holds locked.</summary>
    public static void Apply(ContainerDirectory dir, ContainerView view, LinuxResources changes, Action<string> warn)
    {
        if (view.Status is ContainerStatus.Stopped or ContainerStatus.Creating || view.State is null)
            throw new RuntimeException($"cannot update a {view.Status.ToSpecString()} container");
        var state = view.State;
        var cgroups = CgroupDrivers.For(Host.HostContext.Current, warn);
        var cgroup = cgroups.Open(state.CgroupPath);
        // Update checks every field before it writes any. Validate is create's check: it would
        // refuse what only an update allows (a cpu quota without a period keeps the current one).
        cgroups.Update(cgroup, changes);
        // Keep what the container now has, so that state and later updates start from it: a merge
        // through the OCI codec, which carries every field the update sets.
        if (state.Config is { } config)
        {
            config.Linux ??= new Linux();
            config.Linux.Resources = SpecMerge.Merge(config.Linux.Resources, changes);
            dir.WriteState(state);
        }
    }
}
