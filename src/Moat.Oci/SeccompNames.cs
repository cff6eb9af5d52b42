using System.Collections.Frozen;

namespace Moat.Oci;

/// <summary>The seccomp action, operator, architecture and flag names runtime-spec 1.2 defines.</summary>
public static class SeccompNames
{
    public const string ActKill = "SCMP_ACT_KILL";
    public const string ActKillProcess = "SCMP_ACT_KILL_PROCESS";
    public const string ActKillThread = "SCMP_ACT_KILL_THREAD";
    public const string ActTrap = "SCMP_ACT_TRAP";
    public const string ActErrno = "SCMP_ACT_ERRNO";
    public const string ActTrace = "SCMP_ACT_TRACE";
    public const string ActAllow = "SCMP_ACT_ALLOW";
    public const string ActLog = "SCMP_ACT_LOG";
    public const string ActNotify = "SCMP_ACT_NOTIFY";

    public static IReadOnlyList<string> Actions { get; } =
        [ActKill, ActKillProcess, ActKillThread, ActTrap, ActErrno, ActTrace, ActAllow, ActLog, ActNotify];

    public static IReadOnlyList<string> Operators { get; } =
        ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];

    public static IReadOnlyList<string> Architectures { get; } =
    [
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
        "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
        "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
        "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
        "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
        "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    ];

    public static IReadOnlyList<string> Flags { get; } =
    [
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ];

    private static readonly FrozenSet<string> ActionSet = Actions.ToFrozenSet(StringComparer.Ordinal);
    private static readonly FrozenSet<string> OperatorSet = Operators.ToFrozenSet(StringComparer.Ordinal);
    private static readonly FrozenSet<string> ArchitectureSet = Architectures.ToFrozenSet(StringComparer.Ordinal);
    private static readonly FrozenSet<string> FlagSet = Flags.ToFrozenSet(StringComparer.Ordinal);

    public static bool IsAction(string name) => ActionSet.Contains(name);
    public static bool IsOperator(string name) => OperatorSet.Contains(name);
    public static bool IsArchitecture(string name) => ArchitectureSet.Contains(name);
    public static bool IsFlag(string name) => FlagSet.Contains(name);

    /// <summary>Whether the action can carry an errno (errnoRet / defaultErrnoRet).</summary>
    public static bool ActionTakesErrno(string action) => action is ActErrno or ActTrace;
}
