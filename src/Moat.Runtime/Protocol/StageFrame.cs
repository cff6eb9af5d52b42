namespace Moat.Runtime.Protocol;

/// <summary>
/// The tags of the stage protocol's frames. Their one definition is native/stage-frames.def, which
/// spawn.h expands for C; this enum must have the same names (PascalCase) and values, and
/// StageFrameTests fails when it does not. "Helper" is native/spawn.c: the child before its exec,
/// and the constructor of the re-executed binary. The order: Protocol/README.md.
/// </summary>
public enum StageFrame : byte
{
    /// <summary>Helper → runtime, no payload: the namespaces exist; write the id maps.</summary>
    ReadyForSetup = (byte)'R',

    /// <summary>Runtime → helper, no payload: the id maps are written; carry on to the exec.</summary>
    Go = (byte)'G',

    /// <summary>
    /// Helper → runtime, no payload: then one byte 'N' carrying the descriptor of its new mount
    /// namespace (SCM_RIGHTS), in which the runtime opens the bind sources.
    /// </summary>
    MountNamespace = (byte)'N',

    /// <summary>Helper → runtime: int32 little-endian, the init's pid after the fork into its pid namespace.</summary>
    Pid = (byte)'P',

    /// <summary>Helper or init → runtime: UTF-8 text of what failed. The sender exits after it.</summary>
    Error = (byte)'E',

    /// <summary>Runtime → init: the <see cref="InitMessage"/> as JSON (<see cref="InitMessageCodec"/>).</summary>
    Config = (byte)'C',

    /// <summary>
    /// Runtime → init, not a frame: one byte 'B' carrying a bind source's descriptor (SCM_RIGHTS),
    /// one per <see cref="InitMessage.BindSourceMounts"/> entry, right after <see cref="Config"/>.
    /// </summary>
    BindSource = (byte)'B',

    /// <summary>Runtime → init, no payload: the init is in its cgroups.</summary>
    Placed = (byte)'J',

    /// <summary>Init → runtime, no payload: mounts done, pivot_root not yet; run prestart and createRuntime hooks.</summary>
    HooksPoint = (byte)'H',

    /// <summary>Runtime → init, no payload: those hooks ran.</summary>
    HooksDone = (byte)'h',

    /// <summary>Init → runtime, no payload: then one byte 'T' carrying the pty master (SCM_RIGHTS).</summary>
    Console = (byte)'T',

    /// <summary>Init → runtime, no payload: the container is set up and waits for start.</summary>
    Created = (byte)'K',

    /// <summary>Runtime → init, no payload: state.json records the init; it now outlives the runtime.</summary>
    StateSaved = (byte)'S',
}
