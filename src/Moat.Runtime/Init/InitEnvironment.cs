namespace Moat.Runtime;

public static class InitEnvironment
{
    /// <summary>The only variable the init stage's environment holds: the number of its sync socket.</summary>
    public const string SyncFdVariable = "_MOAT_SYNC_FD";

    /// <summary>A mount namespace for native/spawn.c's constructor to join before the runtime starts.</summary>
    public const string MountNamespaceFdVariable = "_MOAT_MNTNS_FD";
}
