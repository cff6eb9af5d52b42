using System.Runtime.InteropServices;

namespace Moat.Oci.Profiles;

/// <summary>
/// The seccomp profile a container gets when nothing else is asked for: Docker's (moby
/// profiles/seccomp/default.json), resolved for one set of capabilities and one machine the way
/// Docker resolves it when it writes a spec. Everything not allowed fails with EPERM
/// (defaultErrnoRet 1, as moby has it); calls newer than the profile get ENOSYS from the runtime's
/// own prologue, not from the profile, so glibc and friends fall back as they do under runc.
/// </summary>
public static class DefaultSeccompProfile
{
    const uint EPERM = 1, ENOSYS = 38;

    // clone flags that create namespaces (CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET):
    // without CAP_SYS_ADMIN, clone is allowed only when none of them is set.
    const ulong CloneNamespaceFlags = 0x7E020000;

    // personality(2) values a program may ask for: PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26,
    // and 0xffffffff, which only queries the current one.
    static readonly ulong[] AllowedPersonalities = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

    /// <summary>
    /// The machine names <see cref="For"/> takes, in Go's spelling as Docker uses them, with the seccomp
    /// architectures a container on that machine may use (the 32-bit ABIs of a 64-bit machine included).
    /// An empty list means the native one only, as moby leaves it for machines its archMap does not cover.
    /// </summary>
    static readonly Dictionary<string, string[]> ArchitecturesByMachine = new(StringComparer.Ordinal)
    {
        ["amd64"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        ["arm64"] = ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        ["s390x"] = ["SCMP_ARCH_S390X", "SCMP_ARCH_S390"],
        ["riscv64"] = ["SCMP_ARCH_RISCV64"],
        ["loong64"] = ["SCMP_ARCH_LOONGARCH64"],
        ["x86"] = [],
        ["arm"] = [],
        ["ppc64le"] = [],
        ["s390"] = [],
    };

    /// <summary>
    /// The rules in moby's order. ptrace, process_vm_readv and process_vm_writev are allowed to all from
    /// kernel 4.8 on (moby's minKernel rule: older kernels let ptrace bypass seccomp); Moat needs a newer
    /// kernel anyway (openat2, clone3), so the rule holds unconditionally here.
    /// </summary>
    internal static readonly SeccompRule[] Rules =
    [
        Allow(DefaultSeccompSyscalls.Allowed),
        Allow(["process_vm_readv", "process_vm_writev", "ptrace"]),
        // socket for every address family but AF_ALG (38) and AF_VSOCK (40).
        Allow(["socket"]) with { Args = [Arg(0, 38, "SCMP_CMP_LT")] },
        Allow(["socket"]) with { Args = [Arg(0, 39, "SCMP_CMP_EQ")] },
        Allow(["socket"]) with { Args = [Arg(0, 40, "SCMP_CMP_GT")] },
        .. AllowedPersonalities.Select(p => Allow(["personality"]) with { Args = [Arg(0, p, "SCMP_CMP_EQ")] }),
        Allow(["sync_file_range2", "swapcontext"]) with { OnlyOn = ["ppc64le"] },
        Allow(["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"]) with { OnlyOn = ["arm", "arm64"] },
        Allow(["arch_prctl"]) with { OnlyOn = ["amd64", "x32"] },
        Allow(["modify_ldt"]) with { OnlyOn = ["amd64", "x32", "x86"] },
        Allow(["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"]) with { OnlyOn = ["s390", "s390x"] },
        Allow(["riscv_flush_icache"]) with { OnlyOn = ["riscv64"] },
        Allow(["open_by_handle_at"]) with { WithCaps = ["CAP_DAC_READ_SEARCH"] },
        Allow(
        [
            "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
            "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount", "mount_setattr", "move_mount",
            "open_tree", "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns",
            "syslog", "umount", "umount2", "unshare",
        ]) with { WithCaps = ["CAP_SYS_ADMIN"] },
        // clone takes its flags in the first argument, except on s390 where the first two are swapped.
        Allow(["clone"]) with { Args = [Arg(0, CloneNamespaceFlags, "SCMP_CMP_MASKED_EQ")], UnlessCaps = ["CAP_SYS_ADMIN"], NotOn = ["s390", "s390x"] },
        Allow(["clone"]) with { Args = [Arg(1, CloneNamespaceFlags, "SCMP_CMP_MASKED_EQ")], UnlessCaps = ["CAP_SYS_ADMIN"], OnlyOn = ["s390", "s390x"] },
        // clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes libc fall back to clone.
        new SeccompRule(["clone3"], SeccompNames.ActErrno) { ErrnoRet = ENOSYS, UnlessCaps = ["CAP_SYS_ADMIN"] },
        Allow(["reboot"]) with { WithCaps = ["CAP_SYS_BOOT"] },
        Allow(["chroot"]) with { WithCaps = ["CAP_SYS_CHROOT"] },
        Allow(["delete_module", "init_module", "finit_module"]) with { WithCaps = ["CAP_SYS_MODULE"] },
        Allow(["acct"]) with { WithCaps = ["CAP_SYS_PACCT"] },
        Allow(["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]) with { WithCaps = ["CAP_SYS_PTRACE"] },
        Allow(["iopl", "ioperm"]) with { WithCaps = ["CAP_SYS_RAWIO"] },
        Allow(["settimeofday", "stime", "clock_settime", "clock_settime64"]) with { WithCaps = ["CAP_SYS_TIME"] },
        Allow(["vhangup"]) with { WithCaps = ["CAP_SYS_TTY_CONFIG"] },
        Allow(["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]) with { WithCaps = ["CAP_SYS_NICE"] },
        Allow(["syslog"]) with { WithCaps = ["CAP_SYSLOG"] },
        Allow(["bpf"]) with { WithCaps = ["CAP_BPF"] },
        Allow(["perf_event_open"]) with { WithCaps = ["CAP_PERFMON"] },
    ];

    /// <summary>
    /// The profile for a process with these capabilities (pass the bounding set, as Docker does) on
    /// <paramref name="machine"/>: "amd64"/"x86_64", "arm64"/"aarch64", "386"/"x86"/"i686", "arm"/"armv7l",
    /// "ppc64le", "s390x", "riscv64", "loong64"/"loongarch64". A rule limited to capabilities needs all of
    /// them; a rule excluded by capabilities goes when any is held. Each call returns new objects.
    /// </summary>
    public static LinuxSeccomp For(IReadOnlySet<string> capabilities, string machine)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        var arch = NormalizeMachine(machine);
        var architectures = ArchitecturesByMachine[arch];
        var profile = new LinuxSeccomp
        {
            DefaultAction = SeccompNames.ActErrno,
            DefaultErrnoRet = EPERM,
            Architectures = architectures.Length == 0 ? null : [.. architectures],
            Syscalls = [],
        };
        foreach (var rule in Rules)
        {
            if (!rule.AppliesTo(capabilities, arch))
                continue;
            profile.Syscalls.Add(new LinuxSyscall
            {
                Names = [.. rule.Names],
                Action = rule.Action,
                ErrnoRet = rule.ErrnoRet,
                Args = rule.Args?.Select(a => new LinuxSeccompArg { Index = a.Index, Value = a.Value, ValueTwo = a.ValueTwo, Op = a.Op }).ToList(),
            });
        }
        return profile;
    }

    /// <summary><see cref="For(IReadOnlySet{string}, string)"/> for the machine this process runs on.</summary>
    public static LinuxSeccomp For(IReadOnlySet<string> capabilities) => For(capabilities, HostMachine);

    /// <summary>This process's machine in the spelling <see cref="For(IReadOnlySet{string}, string)"/> takes.</summary>
    public static string HostMachine => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.X86 => "x86",
        Architecture.Arm or Architecture.Armv6 => "arm",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.RiscV64 => "riscv64",
        Architecture.LoongArch64 => "loong64",
        var other => throw new PlatformNotSupportedException($"the default seccomp profile has no architecture list for {other}"),
    };

    /// <summary>The machine names <see cref="For(IReadOnlySet{string}, string)"/> knows, one spelling each (Go's).</summary>
    public static IReadOnlyCollection<string> Machines => ArchitecturesByMachine.Keys;

    /// <summary>Every system call name any rule mentions, for checks against libseccomp's table.</summary>
    public static IReadOnlyCollection<string> AllNames =>
        Rules.SelectMany(r => r.Names).ToHashSet(StringComparer.Ordinal);

    static string NormalizeMachine(string machine) => machine switch
    {
        "amd64" or "x86_64" => "amd64",
        "arm64" or "aarch64" => "arm64",
        "x86" or "386" or "i386" or "i686" => "x86",
        "arm" or "armv7l" or "armhf" => "arm",
        "loong64" or "loongarch64" => "loong64",
        "ppc64le" or "s390x" or "s390" or "riscv64" => machine,
        _ => throw new ArgumentException(
            $"the default seccomp profile does not know the machine \"{machine}\" (known: amd64, arm64, x86, arm, ppc64le, s390x, riscv64, loong64)",
            nameof(machine)),
    };

    static SeccompRule Allow(string[] names) => new(names, SeccompNames.ActAllow);

    static SeccompRuleArg Arg(uint index, ulong value, string op) => new(index, value, 0, op);
}

/// <summary>One rule of the default profile, with the conditions Docker resolves before writing the spec.</summary>
internal sealed record SeccompRule(string[] Names, string Action)
{
    public uint? ErrnoRet { get; init; }
    public SeccompRuleArg[]? Args { get; init; }
    /// <summary>Kept only when every one of these capabilities is held.</summary>
    public string[]? WithCaps { get; init; }
    /// <summary>Dropped when any of these capabilities is held.</summary>
    public string[]? UnlessCaps { get; init; }
    /// <summary>Kept only on these machines (Go spelling).</summary>
    public string[]? OnlyOn { get; init; }
    public string[]? NotOn { get; init; }

    public bool AppliesTo(IReadOnlySet<string> capabilities, string machine) =>
        (WithCaps is null || WithCaps.All(capabilities.Contains))
        && (UnlessCaps is null || !UnlessCaps.Any(capabilities.Contains))
        && (OnlyOn is null || OnlyOn.Contains(machine))
        && (NotOn is null || !NotOn.Contains(machine));
}

internal sealed record SeccompRuleArg(uint Index, ulong Value, ulong ValueTwo, string Op);
