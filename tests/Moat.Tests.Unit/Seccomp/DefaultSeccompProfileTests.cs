using Moat.Oci;
using Moat.Oci.Profiles;
using Moat.Runtime.Seccomp;
using Xunit;
using static Moat.Tests.Unit.Seccomp.SeccompKit;

namespace Moat.Tests.Unit.Seccomp;

/// <summary>
/// The default profile (Moat.Oci.Profiles, Docker's) as the runtime compiles it: each capability set
/// and machine through <see cref="SeccompCompiler"/>, then the BPF run on synthetic calls.
/// </summary>
public sealed class DefaultSeccompProfileTests
{
    /// <summary>The bounding set `moat-runtime spec` gives a container.</summary>
    static readonly string[] SpecCaps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

    /// <summary>
    /// Names of the profile that libseccomp 2.5.4 (Debian 12) does not know: calls newer than it. The
    /// compiler skips them (as runc does); anything else skipped is a typo. A newer libseccomp skips fewer.
    /// </summary>
    static readonly HashSet<string> NewerThanLibseccomp =
    [
        "cachestat", "fchmodat2", "futex_requeue", "futex_wait", "futex_wake", "getxattrat", "listmount", "listxattrat",
        "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "map_shadow_stack", "mseal", "removexattrat",
        "riscv_hwprobe", "setxattrat", "statmount", "uretprobe",
    ];

    const ulong CloneNewNs = 0x00020000, CloneNewUser = 0x10000000, CloneNewNet = 0x40000000, CloneNewPid = 0x20000000;
    // What glibc's pthread_create passes: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID.
    const ulong ThreadFlags = 0x003d0f00;
    const ulong ForkFlags = 0x01200011; // CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD

    static readonly Dictionary<string, CompiledSeccompFilter> Compiled = [];

    static HashSet<string> Caps(params string[] caps) => caps.ToHashSet(StringComparer.Ordinal);

    /// <summary>The amd64 profile for these capabilities, compiled (the evaluation helpers speak x86_64).</summary>
    static CompiledSeccompFilter For(params string[] caps)
    {
        var key = string.Join(',', caps.Order(StringComparer.Ordinal));
        lock (Compiled)
        {
            if (!Compiled.TryGetValue(key, out var filter))
                Compiled[key] = filter = SeccompCompiler.Compile(DefaultSeccompProfile.For(Caps(caps), "amd64"));
            return filter;
        }
    }

    static void AssertRet(uint expected, uint actual, string what) =>
        Assert.True(expected == actual, $"{what}: expected {Describe(expected)}, got {Describe(actual)}");

    static readonly string[] EveryCapabilityWithARule =
    [
        "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_BOOT", "CAP_SYS_CHROOT", "CAP_SYS_MODULE", "CAP_SYS_PACCT",
        "CAP_SYS_RAWIO", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_SYS_NICE", "CAP_SYSLOG", "CAP_DAC_READ_SEARCH",
        "CAP_BPF", "CAP_PERFMON",
    ];

    [Fact]
    public void DefaultIsEpermWithTheX86Architectures()
    {
        var profile = DefaultSeccompProfile.For(Caps(SpecCaps), "x86_64");

        Assert.Equal("SCMP_ACT_ERRNO", profile.DefaultAction);
        Assert.Equal(1u, profile.DefaultErrnoRet);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], profile.Architectures!);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], For(SpecCaps).ArchitectureTokens.Select(ArchName));
    }

    static string ArchName(uint token) => token switch
    {
        TokenX86_64 => "SCMP_ARCH_X86_64",
        TokenX86 => "SCMP_ARCH_X86",
        TokenX32 => "SCMP_ARCH_X32",
        _ => $"0x{token:x}",
    };

    [Fact]
    public void Aarch64GetsArmArchitecturesAndArmCalls()
    {
        var profile = DefaultSeccompProfile.For(Caps(SpecCaps), "aarch64");

        Assert.Equal(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], profile.Architectures!);
        Assert.Contains(profile.Syscalls!, r => r.Names.Contains("set_tls"));
        Assert.DoesNotContain(profile.Syscalls!, r => r.Names.Contains("arch_prctl"));
        Assert.Equal(profile.Architectures, DefaultSeccompProfile.For(Caps(SpecCaps), "arm64").Architectures);
        // Both are little-endian like x86_64, so the arm64 profile compiles here too (x86_64 stays the native one).
        Assert.Equal(3, SeccompCompiler.Compile(profile).ArchitectureTokens.Count);
    }

    [Theory]
    [InlineData("arch_prctl")]
    [InlineData("modify_ldt")]
    public void X86CallsAreAllowedOnAmd64(string name)
    {
        AssertRet(Allow, For(SpecCaps).Eval(name), name);
        Assert.DoesNotContain(DefaultSeccompProfile.For(Caps(SpecCaps), "amd64").Syscalls!, r => r.Names.Contains("set_tls"));
    }

    [Fact]
    public void EveryMachineProfileCompilesWithOnlyNewerCallsSkipped()
    {
        foreach (var machine in DefaultSeccompProfile.Machines)
        {
            foreach (var caps in new[] { SpecCaps, [.. SpecCaps, .. EveryCapabilityWithARule] })
            {
                var profile = DefaultSeccompProfile.For(Caps(caps), machine);
                if (machine == "s390x" && BitConverter.IsLittleEndian)
                {
                    // A filter holds architectures of one byte order only: s390x is big-endian.
                    var error = Assert.Throws<Moat.Runtime.RuntimeException>(() => SeccompCompiler.Compile(profile));
                    Assert.Equal("linux.seccomp.architectures[0]: SCMP_ARCH_S390X cannot be filtered on this host (its byte order differs from the native architecture's)", error.Message);
                    continue;
                }
                if (machine == "loong64" && Moat.Interop.Libseccomp.seccomp_arch_resolve_name("loongarch64") == 0)
                {
                    // libseccomp learnt LoongArch in 2.6: an older one says so, naming the field.
                    var error = Assert.Throws<Moat.Runtime.RuntimeException>(() => SeccompCompiler.Compile(profile));
                    Assert.Equal($"linux.seccomp.architectures[0]: SCMP_ARCH_LOONGARCH64 is not supported by this host's libseccomp {SeccompCompiler.LibseccompVersion}", error.Message);
                    continue;
                }
                var filter = SeccompCompiler.Compile(profile);
                Assert.True(filter.InstructionCount > 100, machine);
                // A name libseccomp does not know is skipped silently: only calls newer than it may be.
                Assert.Equal([], filter.SkippedSyscalls.Where(n => !NewerThanLibseccomp.Contains(n)).ToArray());
            }
        }
    }

    [Fact]
    public void NewerThanLibseccompListsOnlyNamesOfTheProfile()
    {
        Assert.Equal([], NewerThanLibseccomp.Where(n => !DefaultSeccompProfile.AllNames.Contains(n)).ToArray());
    }

    [Fact]
    public void EveryMachineIsValidForTheSpecValidator()
    {
        // The emitted profile must pass the same checks a user's config.json does.
        using var bundle = new Moat.Tests.Unit.Oci.TempBundle();
        foreach (var machine in DefaultSeccompProfile.Machines)
        {
            var spec = DefaultSpec.Create(rootless: false);
            spec.Linux!.Seccomp = DefaultSeccompProfile.For(Caps([.. SpecCaps, .. EveryCapabilityWithARule]), machine);
            SpecValidator.Validate(spec, bundle.Directory);
        }
    }

    [Theory]
    [InlineData("read")]
    [InlineData("write")]
    [InlineData("openat")]
    [InlineData("openat2")]
    [InlineData("execve")]
    [InlineData("exit_group")]
    [InlineData("futex")]
    [InlineData("mmap")]
    [InlineData("rt_sigaction")]
    [InlineData("getpid")]
    [InlineData("wait4")]
    [InlineData("close_range")]
    [InlineData("faccessat2")]
    [InlineData("pidfd_open")]
    [InlineData("statx")]
    [InlineData("landlock_create_ruleset")]
    [InlineData("seccomp")]
    [InlineData("capset")]
    [InlineData("setuid")]
    [InlineData("ioctl")]
    [InlineData("sendmsg")]
    [InlineData("socketpair")]
    [InlineData("memfd_secret")]
    [InlineData("io_setup")]
    [InlineData("io_submit")]
    public void OrdinaryCallsAreAllowed(string name)
    {
        AssertRet(Allow, For(SpecCaps).Eval(name), name);
    }

    /// <summary>moby allows these to all from kernel 4.8 on (before, ptrace could bypass seccomp); Moat needs a newer kernel.</summary>
    [Theory]
    [InlineData("ptrace")]
    [InlineData("process_vm_readv")]
    [InlineData("process_vm_writev")]
    public void PtraceIsAllowedWithoutCapSysPtrace(string name)
    {
        AssertRet(Allow, For(SpecCaps).Eval(name), name);
    }

    [Theory]
    [InlineData("mount")]
    [InlineData("umount2")]
    [InlineData("unshare")]
    [InlineData("setns")]
    [InlineData("pivot_root")]
    [InlineData("keyctl")]
    [InlineData("add_key")]
    [InlineData("request_key")]
    [InlineData("kcmp")]
    [InlineData("pidfd_getfd")]
    [InlineData("process_madvise")]
    [InlineData("bpf")]
    [InlineData("perf_event_open")]
    [InlineData("reboot")]
    [InlineData("init_module")]
    [InlineData("finit_module")]
    [InlineData("delete_module")]
    [InlineData("kexec_load")]
    [InlineData("kexec_file_load")]
    [InlineData("open_by_handle_at")]
    [InlineData("clock_settime")]
    [InlineData("settimeofday")]
    [InlineData("swapon")]
    [InlineData("acct")]
    [InlineData("chroot")]
    [InlineData("iopl")]
    [InlineData("ioperm")]
    [InlineData("syslog")]
    [InlineData("userfaultfd")]
    [InlineData("io_uring_setup")]
    [InlineData("io_uring_enter")]
    [InlineData("io_uring_register")]
    [InlineData("fsopen")]
    [InlineData("open_tree")]
    [InlineData("move_mount")]
    [InlineData("mbind")]
    [InlineData("vhangup")]
    [InlineData("sethostname")]
    [InlineData("quotactl")]
    public void PrivilegedCallsAreEpermWithSpecCapabilities(string name)
    {
        AssertRet(Eperm, For(SpecCaps).Eval(name), name);
    }

    [Theory]
    [InlineData("mount")]
    [InlineData("umount2")]
    [InlineData("unshare")]
    [InlineData("setns")]
    [InlineData("bpf")]
    [InlineData("perf_event_open")]
    [InlineData("fsopen")]
    [InlineData("open_tree")]
    [InlineData("sethostname")]
    [InlineData("syslog")]
    [InlineData("clone3")]
    public void CapSysAdminAllowsWhatDockerAllows(string name)
    {
        AssertRet(Allow, For([.. SpecCaps, "CAP_SYS_ADMIN"]).Eval(name), name);
    }

    [Theory]
    [InlineData("keyctl")]
    [InlineData("add_key")]
    [InlineData("request_key")]
    [InlineData("kcmp")]
    [InlineData("reboot")]
    [InlineData("kexec_load")]
    [InlineData("pivot_root")]
    [InlineData("io_uring_setup")]
    [InlineData("userfaultfd")]
    public void CapSysAdminDoesNotOpenEverything(string name)
    {
        AssertRet(Eperm, For([.. SpecCaps, "CAP_SYS_ADMIN"]).Eval(name), name);
    }

    [Theory]
    [InlineData("kcmp")]
    [InlineData("pidfd_getfd")]
    [InlineData("process_madvise")]
    [InlineData("ptrace")]
    public void CapSysPtraceAllowsTracing(string name)
    {
        AssertRet(Allow, For([.. SpecCaps, "CAP_SYS_PTRACE"]).Eval(name), name);
        AssertRet(Eperm, For([.. SpecCaps, "CAP_SYS_PTRACE"]).Eval("mount"), "mount");
    }

    [Theory]
    [InlineData("CAP_SYS_BOOT", "reboot")]
    [InlineData("CAP_SYS_CHROOT", "chroot")]
    [InlineData("CAP_SYS_MODULE", "finit_module")]
    [InlineData("CAP_SYS_PACCT", "acct")]
    [InlineData("CAP_SYS_PTRACE", "kcmp")]
    [InlineData("CAP_SYS_RAWIO", "iopl")]
    [InlineData("CAP_SYS_TIME", "clock_settime")]
    [InlineData("CAP_SYS_TTY_CONFIG", "vhangup")]
    [InlineData("CAP_SYS_NICE", "mbind")]
    [InlineData("CAP_SYSLOG", "syslog")]
    [InlineData("CAP_DAC_READ_SEARCH", "open_by_handle_at")]
    [InlineData("CAP_BPF", "bpf")]
    [InlineData("CAP_PERFMON", "perf_event_open")]
    public void EachCapabilityOpensItsCalls(string capability, string name)
    {
        AssertRet(Eperm, For(SpecCaps).Eval(name), $"{name} without {capability}");
        AssertRet(Allow, For([.. SpecCaps, capability]).Eval(name), $"{name} with {capability}");
    }

    [Fact]
    public void EveryCapabilityTogetherCompiles()
    {
        var filter = For(EveryCapabilityWithARule);

        AssertRet(Allow, filter.Eval("bpf"), "bpf");
        AssertRet(Allow, filter.Eval("syslog"), "syslog");
        AssertRet(Allow, filter.Eval("clone", CloneNewUser | ForkFlags), "clone");
        AssertRet(Eperm, filter.Eval("keyctl"), "keyctl");
        // moby took io_uring out of the profile in 2023: no capability brings it back.
        AssertRet(Eperm, filter.Eval("io_uring_setup"), "io_uring_setup");
    }

    [Theory]
    [InlineData(0x0ul, true)]
    [InlineData(0x8ul, true)]
    [InlineData(0x20000ul, true)]
    [InlineData(0x20008ul, true)]
    [InlineData(0xfffffffful, true)]
    [InlineData(0x0400000ul, false)] // READ_IMPLIES_EXEC
    [InlineData(0x0040000ul, false)] // ADDR_NO_RANDOMIZE
    [InlineData(0x1ul, false)]
    [InlineData(0x1_0000_0000ul, false)]
    public void PersonalityOnlyLinuxPersonas(ulong persona, bool allowed)
    {
        AssertRet(allowed ? Allow : Eperm, For(SpecCaps).Eval("personality", persona), $"personality(0x{persona:x})");
    }

    [Theory]
    [InlineData(ThreadFlags, true)]
    [InlineData(ForkFlags, true)]
    [InlineData(ForkFlags | CloneNewNs, false)]
    [InlineData(ForkFlags | CloneNewUser, false)]
    [InlineData(ForkFlags | CloneNewNet, false)]
    [InlineData(ForkFlags | CloneNewPid, false)]
    [InlineData(ForkFlags | 0x02000000ul, false)] // CLONE_NEWCGROUP
    [InlineData(ForkFlags | 0x04000000ul, false)] // CLONE_NEWUTS
    [InlineData(ForkFlags | 0x08000000ul, false)] // CLONE_NEWIPC
    public void CloneWithoutNamespaceFlagsUnlessCapSysAdmin(ulong flags, bool allowed)
    {
        AssertRet(allowed ? Allow : Eperm, For(SpecCaps).Eval("clone", flags), $"clone(0x{flags:x})");
        AssertRet(Allow, For([.. SpecCaps, "CAP_SYS_ADMIN"]).Eval("clone", flags), $"clone(0x{flags:x}) with CAP_SYS_ADMIN");
    }

    [Fact]
    public void Clone3IsEnosysSoLibcFallsBackToClone()
    {
        AssertRet(Enosys, For(SpecCaps).Eval("clone3"), "clone3");
    }

    [Theory]
    [InlineData(1ul, true)]   // AF_UNIX
    [InlineData(2ul, true)]   // AF_INET
    [InlineData(10ul, true)]  // AF_INET6
    [InlineData(16ul, true)]  // AF_NETLINK
    [InlineData(37ul, true)]
    [InlineData(38ul, false)] // AF_ALG: the kernel's crypto API, a long list of CVEs
    [InlineData(39ul, true)]  // AF_NFC
    [InlineData(40ul, false)] // AF_VSOCK: reaches the host across namespaces
    [InlineData(41ul, true)]  // AF_KCM
    public void SocketAnyFamilyButAlgAndVsock(ulong family, bool allowed)
    {
        AssertRet(allowed ? Allow : Eperm, For(SpecCaps).Eval("socket", family, 1, 0), $"socket({family})");
    }

    [Fact]
    public void NewerSyscallsGetEnosys()
    {
        var filter = For(SpecCaps);

        Assert.True(filter.EnosysStubLength > 0);
        AssertRet(Enosys, filter.EvalNr(1000), "syscall 1000 on x86_64");
        AssertRet(Enosys, filter.EvalNr(1000, AuditI386), "syscall 1000 on i386");
        AssertRet(Enosys, filter.EvalNr((int)(X32Bit | 1000), AuditX86_64), "syscall 1000 on x32");
    }

    /// <summary>
    /// Calls the profile allows but this libseccomp may not know (x86_64 numbers): allowed when it knows
    /// them, ENOSYS through the prologue when it does not (they are above every number it knows).
    /// </summary>
    [Theory]
    [InlineData("statmount", 457)]
    [InlineData("listmount", 458)]
    [InlineData("mseal", 462)]
    [InlineData("setxattrat", 463)]
    [InlineData("getxattrat", 464)]
    [InlineData("listxattrat", 465)]
    [InlineData("removexattrat", 466)]
    public void AllowedCallsNewerThanLibseccompGetEnosysOrAllow(string name, int nr)
    {
        var filter = For(SpecCaps);
        var expected = filter.SkippedSyscalls.Contains(name) ? Enosys : Allow;
        AssertRet(expected, filter.EvalNr(nr), $"{name} ({nr})");
    }

    [Fact]
    public void I386CallsFollowTheSameRules()
    {
        var filter = For(SpecCaps);

        AssertRet(Allow, filter.EvalNr(Nr("getpid", TokenX86), AuditI386), "i386 getpid");
        AssertRet(Allow, filter.EvalNr(Nr("socketcall", TokenX86), AuditI386), "i386 socketcall");
        AssertRet(Allow, filter.EvalNr(Nr("chown32", TokenX86), AuditI386), "i386 chown32");
        AssertRet(Eperm, filter.EvalNr(Nr("mount", TokenX86), AuditI386), "i386 mount");
        AssertRet(Eperm, filter.EvalNr(Nr("keyctl", TokenX86), AuditI386), "i386 keyctl");
        AssertRet(Eperm, filter.EvalNr(Nr("io_uring_setup", TokenX86), AuditI386), "i386 io_uring_setup");
        AssertRet(KillThread, filter.EvalNr(172, AuditAarch64), "aarch64 on an x86_64 profile");
    }

    [Fact]
    public void ForReturnsNewObjectsEachTime()
    {
        var first = DefaultSeccompProfile.For(Caps(SpecCaps), "amd64");
        first.Syscalls![0].Names.Clear();
        first.Syscalls.Clear();
        first.Architectures!.Clear();

        var second = DefaultSeccompProfile.For(Caps(SpecCaps), "amd64");

        Assert.NotEmpty(second.Syscalls!);
        Assert.NotEmpty(second.Syscalls![0].Names);
        Assert.NotEmpty(second.Architectures!);
    }

    [Theory]
    [InlineData(Moat.Runtime.Api.DefaultConfigKind.MappedRoot)]
    [InlineData(Moat.Runtime.Api.DefaultConfigKind.HostRoot)]
    [InlineData(Moat.Runtime.Api.DefaultConfigKind.Rootless)]
    public void SpecWritesTheProfileForItsBoundingSetAndThisHost(Moat.Runtime.Api.DefaultConfigKind kind)
    {
        var spec = Moat.Runtime.Api.ContainerRuntime.DefaultConfig(kind);

        var bounding = spec.Process!.Capabilities!.Bounding!.ToHashSet(StringComparer.Ordinal);
        var expected = DefaultSeccompProfile.For(bounding, DefaultSeccompProfile.HostMachine);
        Assert.Equal(AsJson(expected), AsJson(spec.Linux!.Seccomp!));
        var filter = SeccompCompiler.Compile(spec.Linux.Seccomp!);
        if (DefaultSeccompProfile.HostMachine == "amd64")
        {
            AssertRet(Eperm, filter.Eval("io_uring_setup"), "io_uring_setup");
            AssertRet(Allow, filter.Eval("ptrace"), "ptrace");
            AssertRet(Eperm, filter.Eval("socket", 38), "socket(AF_ALG)");
        }
    }

    static string AsJson(LinuxSeccomp seccomp) => OciJson.Serialize(new Spec { Linux = new Linux { Seccomp = seccomp } });

    [Fact]
    public void HostMachineHasAProfileThatCompiles()
    {
        Assert.Contains(DefaultSeccompProfile.HostMachine, DefaultSeccompProfile.Machines);
        var filter = SeccompCompiler.Compile(DefaultSeccompProfile.For(Caps(SpecCaps)));
        Assert.True(filter.EnosysStubLength > 0);
    }
}
