using Moat.Oci;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Create;
using Moat.Runtime.Exec;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Api;

/// <summary>
/// The runtime API: every verb of an OCI runtime, over typed options, whatever the isolation tier.
/// Both executables call it (moat-runtime for engines, moat for people); their commands only parse
/// flags, call this, and print.
/// </summary>
public interface IContainerRuntime
{
    /// <summary>Creates a container from a bundle; its process waits for <see cref="Start"/> (or runs at once when the options say so).</summary>
    ContainerCreator.Created Create(CreateOptions options);

    void Start(string id);

    /// <summary>The container as on disk, with its status from the live system.</summary>
    ContainerView State(string id);

    IReadOnlyList<ContainerView> List();

    void Kill(string id, int signal, bool all);

    /// <summary>Removes a stopped container (any, with force); a missing one is fine with force.</summary>
    void Delete(string id, bool force);

    /// <summary>A new process in a running container.</summary>
    ContainerExec.Started Exec(ExecOptions options);

    void Pause(string id);

    void Resume(string id);

    /// <summary>New resource limits for a live container, kept in its state.</summary>
    void Update(string id, LinuxResources changes);

    IReadOnlyList<int> Processes(string id);

    CgroupStats Stats(string id);

    OomWatcher WatchOom(string id);

    /// <summary>poststart hooks of a container whose process was started by <see cref="Create"/> with StartImmediately.</summary>
    void RunPoststart(State.RuntimeState state);
}
