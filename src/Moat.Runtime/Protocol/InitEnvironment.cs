namespace Moat.Runtime.Protocol;

/// <summary>
/// The environment the init stage is executed with: the only variables it gets, read by the init
/// and by native/spawn.c's constructor before the .NET runtime starts. spawn.h names them too
/// (MOAT_*_VARIABLE); SpawnLayoutTests checks that both say the same.
/// </summary>
public static class InitEnvironment
{
    /// <summary>The number of the init's end of the sync socket (spawn.h MOAT_SYNC_FD_VARIABLE).</summary>
    public const string SyncFdVariable = "_MOAT_SYNC_FD";

    /// <summary>A mount namespace for native/spawn.c's constructor to join before the runtime starts (MOAT_MNTNS_FD_VARIABLE).</summary>
    public const string MountNamespaceFdVariable = "_MOAT_MNTNS_FD";

    /// <summary>Asks that constructor to fork once more, into the pid namespace the helper joined or unshared (MOAT_FORK_VARIABLE).</summary>
    public const string ForkVariable = "_MOAT_FORK_INTO_PID_NS";
}
