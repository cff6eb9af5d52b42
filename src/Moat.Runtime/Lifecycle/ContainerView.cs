using Moat.Runtime.State;

namespace Moat.Runtime.Lifecycle;

/// <summary>A container as read from disk, with its status worked out from the live system.</summary>
public sealed record ContainerView(string Id, RuntimeState? State, ContainerStatus Status)
{
    /// <summary>A tier whose freezer is not the host's (the vm tier: the guest's cgroup) marks a paused container with this file.</summary>
    public const string PausedMark = "paused";

    public int Pid => Status is ContainerStatus.Stopped ? 0 : State?.Pid ?? 0;

    public static ContainerView Load(string id, string directory)
    {
        var state = ContainerDirectory.ReadState(directory);
        return new ContainerView(id, state, StatusOf(state, directory));
    }

    public static ContainerStatus StatusOf(RuntimeState? state, string directory)
    {
        if (state is null || state.Phase == RuntimeState.Phases.Creating)
            return ContainerStatus.Creating;
        if (!ProcessInfo.IsAlive(state.Pid, state.PidStartTime))
            return ContainerStatus.Stopped;
        if (Freezer.IsFrozen(state.CgroupDirectories) || File.Exists(Path.Combine(directory, PausedMark)))
            return ContainerStatus.Paused;
        return File.Exists(Path.Combine(directory, ContainerDirectory.ExecFifo)) ? ContainerStatus.Created : ContainerStatus.Running;
    }
}
