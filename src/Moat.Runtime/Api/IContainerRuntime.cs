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

    /// <summary>create + start; in the foreground also wait and delete: the process's exit status.</summary>
    int Run(CreateOptions options, bool detach);

    void Start(string id);

    /// <summary>The container as on disk, with its status from the live system.</summary>
    ContainerView State(string id);

    IReadOnlyList<ContainerView> List();

    void Kill(string id, int signal, bool all);

    /// <summary>Removes a stopped container (any, with force); a missing one is fine with force.</summary>
    void Delete(string id, bool force);

    /// <summary>A new process in a running container.</summary>
    ContainerExec.Started Exec(ExecOptions options);

    /// <summary>exec, waiting in the foreground for the process's exit status unless detached.</summary>
    int ExecAndWait(ExecOptions options, bool detach);

    Spec ConfigOf(string id);

    void Pause(string id);

    void Resume(string id);

    /// <summary>New resource limits for a live container, kept in its state.</summary>
    void Update(string id, LinuxResources changes);

    IReadOnlyList<int> Processes(string id);

    CgroupStats Stats(string id);

    OomWatcher WatchOom(string id);

    /// <summary>Statistics once (no interval) or every interval, and OOM kills, as JSON lines until the container stops.</summary>
    void Events(string id, TimeSpan? interval, Action<string> emit);

    /// <summary>poststart hooks of a container whose process was started by <see cref="Create"/> with StartImmediately.</summary>
    void RunPoststart(State.RuntimeState state);
}
