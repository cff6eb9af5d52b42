using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// System call numbers for the calls Moat makes through syscall(2) because glibc 2.36 has no
/// wrapper (or its wrapper acts on every thread). The calls added since Linux 5.1 (pidfd_open,
/// open_tree, openat2, landlock, ...) share one number on every architecture; the older ones
/// differ, and are chosen here from the architecture this process runs on.
/// </summary>
public static class SyscallNumbers
{
    static readonly Architecture Arch = RuntimeInformation.ProcessArchitecture;

    // The asm-generic table (arm64, riscv64, loongarch64) against x86_64's own.
    internal static long Pick(long x64, long generic, string name) => Arch switch
    {
        Architecture.X64 => x64,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => generic,
        var other => throw new PlatformNotSupportedException($"{name}(2): no system call number known for {other}"),
    };

    public static readonly long Capget = Pick(125, 90, "capget");
    public static readonly long Capset = Pick(126, 91, "capset");
    public static readonly long PivotRoot = Pick(155, 41, "pivot_root");
    public static readonly long Seccomp = Pick(317, 277, "seccomp");
    public static readonly long Keyctl = Pick(250, 219, "keyctl");
    public static readonly long FinitModule = Pick(313, 273, "finit_module");

    // Unified numbers (Linux 5.1 and later, every architecture but alpha).
    public const long PidfdSendSignal = 424, OpenTree = 428, MoveMount = 429, Fsopen = 430, Fsconfig = 431,
        Fsmount = 432, PidfdOpen = 434, CloseRange = 436, Openat2 = 437, MountSetattr = 442,
        LandlockCreateRuleset = 444, LandlockAddRule = 445, LandlockRestrictSelf = 446;
}
