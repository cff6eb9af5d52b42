using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// Landlock (Linux 5.13+): the unprivileged access-control LSM the sandbox tier uses as its second
/// fence. Debian 12's headers stop at ABI 2: the later constants are defined here from the kernel's
/// uapi/linux/landlock.h (ABI 3 truncate, 4 TCP, 5 ioctl on devices, 6 scoping, 7 audit flags).
/// </summary>
public static unsafe partial class Libc
{
    const uint LANDLOCK_CREATE_RULESET_VERSION = 1;
    public const int LANDLOCK_RULE_PATH_BENEATH = 1, LANDLOCK_RULE_NET_PORT = 2;

    public const ulong LANDLOCK_ACCESS_FS_EXECUTE = 1UL << 0, LANDLOCK_ACCESS_FS_WRITE_FILE = 1UL << 1,
        LANDLOCK_ACCESS_FS_READ_FILE = 1UL << 2, LANDLOCK_ACCESS_FS_READ_DIR = 1UL << 3,
        LANDLOCK_ACCESS_FS_REMOVE_DIR = 1UL << 4, LANDLOCK_ACCESS_FS_REMOVE_FILE = 1UL << 5,
        LANDLOCK_ACCESS_FS_MAKE_CHAR = 1UL << 6, LANDLOCK_ACCESS_FS_MAKE_DIR = 1UL << 7,
        LANDLOCK_ACCESS_FS_MAKE_REG = 1UL << 8, LANDLOCK_ACCESS_FS_MAKE_SOCK = 1UL << 9,
        LANDLOCK_ACCESS_FS_MAKE_FIFO = 1UL << 10, LANDLOCK_ACCESS_FS_MAKE_BLOCK = 1UL << 11,
        LANDLOCK_ACCESS_FS_MAKE_SYM = 1UL << 12, LANDLOCK_ACCESS_FS_REFER = 1UL << 13,
        LANDLOCK_ACCESS_FS_TRUNCATE = 1UL << 14, LANDLOCK_ACCESS_FS_IOCTL_DEV = 1UL << 15;
    public const ulong LANDLOCK_ACCESS_NET_BIND_TCP = 1UL << 0, LANDLOCK_ACCESS_NET_CONNECT_TCP = 1UL << 1;
    public const ulong LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1UL << 0, LANDLOCK_SCOPE_SIGNAL = 1UL << 1;

    /// <summary>struct landlock_ruleset_attr (ABI 6 size: 24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LandlockRulesetAttr
    {
        public ulong HandledAccessFs;
        public ulong HandledAccessNet;
        public ulong Scoped;
    }

    /// <summary>struct landlock_path_beneath_attr: packed, 12 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct LandlockPathBeneathAttr
    {
        public ulong AllowedAccess;
        public int ParentFd;
    }

    /// <summary>struct landlock_net_port_attr (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LandlockNetPortAttr
    {
        public ulong AllowedAccess;
        public ulong Port;
    }

    /// <summary>
    /// The Landlock ABI version the kernel offers, or 0 when Landlock is not built, not enabled
    /// (absent from the lsm= list) or the call is refused.
    /// </summary>
    public static int LandlockAbiVersion()
    {
        var result = syscall(SyscallNumbers.LandlockCreateRuleset, 0, 0, LANDLOCK_CREATE_RULESET_VERSION, 0, 0);
        return result > 0 ? (int)result : 0;
    }

    /// <summary>A new ruleset; the attribute's size follows the ABI (scoping needs the 24-byte form).</summary>
    public static FileDescriptor LandlockCreateRuleset(LandlockRulesetAttr attributes)
    {
        var size = attributes.Scoped != 0 ? 24 : attributes.HandledAccessNet != 0 ? 16 : 8;
        return new FileDescriptor((int)Errors.Check(syscall(SyscallNumbers.LandlockCreateRuleset, (long)&attributes, size, 0, 0, 0), "landlock_create_ruleset"));
    }

    public static void LandlockAddPathRule(FileDescriptor ruleset, int parentFd, ulong access, string what)
    {
        var rule = new LandlockPathBeneathAttr { AllowedAccess = access, ParentFd = parentFd };
        Errors.Check(syscall(SyscallNumbers.LandlockAddRule, ruleset.Fd, LANDLOCK_RULE_PATH_BENEATH, (long)&rule, 0, 0), "landlock_add_rule", what);
    }

    /// <summary>As <see cref="LandlockAddPathRule"/>, but EBADFD (the descriptor is on no file hierarchy: a pipe) comes back as a value: 0, or 77.</summary>
    public static int LandlockTryAddPathRule(FileDescriptor ruleset, int parentFd, ulong access, string what)
    {
        var rule = new LandlockPathBeneathAttr { AllowedAccess = access, ParentFd = parentFd };
        var result = syscall(SyscallNumbers.LandlockAddRule, ruleset.Fd, LANDLOCK_RULE_PATH_BENEATH, (long)&rule, 0, 0);
        if (result < 0 && Errors.LastErrno == 77)
            return 77;
        Errors.Check(result, "landlock_add_rule", what);
        return 0;
    }

    public static void LandlockAddPortRule(FileDescriptor ruleset, ushort port, ulong access)
    {
        var rule = new LandlockNetPortAttr { AllowedAccess = access, Port = port };
        Errors.Check(syscall(SyscallNumbers.LandlockAddRule, ruleset.Fd, LANDLOCK_RULE_NET_PORT, (long)&rule, 0, 0), "landlock_add_rule", $"port {port}");
    }

    /// <summary>Restricts the calling thread (and what it executes) to the ruleset; needs no_new_privs or CAP_SYS_ADMIN.</summary>
    public static void LandlockRestrictSelf(FileDescriptor ruleset) =>
        Errors.Check(syscall(SyscallNumbers.LandlockRestrictSelf, ruleset.Fd, 0, 0, 0, 0), "landlock_restrict_self");
}
