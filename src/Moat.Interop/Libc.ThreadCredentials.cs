namespace Moat.Interop;

/// <summary>
/// Credentials of the calling thread only: the kernel keeps them per thread, and these raw system
/// calls (unlike glibc's setgroups/setresuid, which signal every thread to follow) change just the
/// caller. The sandbox supervisor acts for a workload's process with that process's ids this way.
/// </summary>
public static partial class Libc
{
    static readonly long SetfsuidNumber = SyscallNumbers.Pick(122, 151, "setfsuid");
    static readonly long SetfsgidNumber = SyscallNumbers.Pick(123, 152, "setfsgid");
    static readonly long SetgroupsNumber = SyscallNumbers.Pick(116, 159, "setgroups");
    static readonly long SetresuidNumber = SyscallNumbers.Pick(117, 147, "setresuid");
    static readonly long SetresgidNumber = SyscallNumbers.Pick(119, 149, "setresgid");

    /// <summary>setfsuid(2) for this thread; dropping fsuid 0 also drops the file capabilities from its effective set.</summary>
    public static void ThreadSetFsuid(uint uid) => syscall(SetfsuidNumber, uid, 0, 0, 0, 0);

    public static void ThreadSetFsgid(uint gid) => syscall(SetfsgidNumber, gid, 0, 0, 0, 0);

    public static unsafe void ThreadSetGroups(ReadOnlySpan<uint> groups)
    {
        fixed (uint* p = groups)
            Errors.Check(syscall(SetgroupsNumber, groups.Length, (long)p, 0, 0, 0), "setgroups (thread)");
    }

    /// <summary>setresuid for this thread (-1 keeps a field): with the saved id kept 0 the thread can come back.</summary>
    public static void ThreadSetResuid(long real, long effective, long saved) =>
        Errors.Check(syscall(SetresuidNumber, real, effective, saved, 0, 0), "setresuid (thread)");

    public static void ThreadSetResgid(long real, long effective, long saved) =>
        Errors.Check(syscall(SetresgidNumber, real, effective, saved, 0, 0), "setresgid (thread)");
}
