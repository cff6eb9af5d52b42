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
        // Keep what the container now has, so that state and later updates start from it.
        if (state.Config is { } config)
        {
            config.Linux ??= new Linux();
            config.Linux.Resources = Merge(config.Linux.Resources, changes);
            dir.WriteState(state);
        }
    }

    /// <summary>The old resources with every field the update sets replaced.</summary>
    public static LinuxResources Merge(LinuxResources? old, LinuxResources changes)
    {
        var merged = old ?? new LinuxResources();
        if (changes.Memory is { } m)
        {
            merged.Memory ??= new LinuxMemory();
            merged.Memory.Limit = m.Limit ?? merged.Memory.Limit;
            merged.Memory.Reservation = m.Reservation ?? merged.Memory.Reservation;
            merged.Memory.Swap = m.Swap ?? merged.Memory.Swap;
            merged.Memory.Kernel = m.Kernel ?? merged.Memory.Kernel;
            merged.Memory.KernelTcp = m.KernelTcp ?? merged.Memory.KernelTcp;
            merged.Memory.Swappiness = m.Swappiness ?? merged.Memory.Swappiness;
        }
        if (changes.Cpu is { } c)
        {
            merged.Cpu ??= new LinuxCpu();
            merged.Cpu.Shares = c.Shares ?? merged.Cpu.Shares;
            merged.Cpu.Quota = c.Quota ?? merged.Cpu.Quota;
            merged.Cpu.Period = c.Period ?? merged.Cpu.Period;
            merged.Cpu.Burst = c.Burst ?? merged.Cpu.Burst;
            merged.Cpu.RealtimeRuntime = c.RealtimeRuntime ?? merged.Cpu.RealtimeRuntime;
            merged.Cpu.RealtimePeriod = c.RealtimePeriod ?? merged.Cpu.RealtimePeriod;
            merged.Cpu.Cpus = c.Cpus ?? merged.Cpu.Cpus;
            merged.Cpu.Mems = c.Mems ?? merged.Cpu.Mems;
        }
        merged.Pids = changes.Pids ?? merged.Pids;
        merged.BlockIo = changes.BlockIo ?? merged.BlockIo;
        merged.HugepageLimits = changes.HugepageLimits ?? merged.HugepageLimits;
        merged.Network = changes.Network ?? merged.Network;
        merged.Unified = changes.Unified ?? merged.Unified;
        return merged;
    }
}
