namespace Moat.Interop;

/// <summary>Landlock (Linux 5.13+): the unprivileged access-control LSM the sandbox tier uses as its second fence.</summary>
public static unsafe partial class Libc
{
    const uint LANDLOCK_CREATE_RULESET_VERSION = 1;

    /// <summary>
    /// The Landlock ABI version the kernel offers, or 0 when Landlock is not built, not enabled
    /// (absent from the lsm= list) or the call is refused.
    /// </summary>
    public static int LandlockAbiVersion()
    {
        var result = syscall(SyscallNumbers.LandlockCreateRuleset, 0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0, 0);
        return result > 0 ? (int)result : 0;
    }
}
