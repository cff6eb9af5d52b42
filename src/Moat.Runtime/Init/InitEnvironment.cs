namespace Moat.Runtime;

public static class InitEnvironment
{
    /// <summary>The only variable the init stage's environment holds: the number of its sync socket.</summary>
    public const string SyncFdVariable = "_MOAT_SYNC_FD";
}
