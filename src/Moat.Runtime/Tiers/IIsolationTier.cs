using Moat.Oci;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Create;
using Moat.Runtime.Exec;
using Moat.Runtime.Lifecycle;
using Moat.Runtime.State;

namespace Moat.Runtime.Tiers;

/// <summary>
/// One isolation strength: how a container of this tier is made, run, changed and removed. The
/// runtime API (<see cref="Api.ContainerRuntime"/>) finds the container, takes its lock, reads its
/// state once and hands the tier a <see cref="LocatedContainer"/>; the tier does the rest.
///
/// Shaped for the tiers to come: a sandbox tier builds on the container tier and adds a supervisor
/// process that lives as long as the container (started in Create, stopped in Delete); a vm tier
/// boots a virtual machine in Create and forwards every later verb to the agent inside it. Both keep
/// their own facts in the same state directory, which every verb receives.
/// </summary>
public interface IIsolationTier
{
    Isolation Isolation { get; }

    /// <summary>Makes the container from its loaded config; it waits for Start (or runs at once for run).</summary>
    ContainerCreator.Created Create(CreateOptions options, string bundle, Spec spec);

    void Start(LocatedContainer container);

    void Kill(LocatedContainer container, int signal, bool all);

    void Delete(LocatedContainer container, bool force);

    ContainerExec.Started Exec(ContainerView container, ExecOptions options);

    void Pause(LocatedContainer container);

    void Resume(LocatedContainer container);

    void Update(LocatedContainer container, LinuxResources changes);

    IReadOnlyList<int> Processes(ContainerView container);

    /// <summary>The container's resource usage (runc's `events --stats`).</summary>
    CgroupStats Stats(ContainerView container);

    /// <summary>OOM kills since the last call, for `events`.</summary>
    OomWatcher WatchOom(ContainerView container);

    /// <summary>poststart hooks, once the user's program runs.</summary>
    void RunPoststart(RuntimeState state);
}

/// <summary>A container whose state directory the caller holds locked, with its state as read under the lock.</summary>
public sealed record LocatedContainer(ContainerDirectory Directory, ContainerView View)
{
    public string Id => View.Id;
}
