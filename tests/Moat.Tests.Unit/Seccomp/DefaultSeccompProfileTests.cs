using Moat.Oci;
using Moat.Runtime.Seccomp;
using Xunit;
using static Moat.Tests.Unit.Seccomp.SeccompKit;

namespace Moat.Tests.Unit.Seccomp;

public sealed class DefaultSeccompProfileTests
{
    /// <summary>The capabilities `moat spec` gives a container.</summary>
    static readonly string[] SpecCaps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

    const ulong CloneNewNs = 0x00020000, CloneNewUser = 0x10000000, CloneNewNet = 0x40000000, CloneNewPid = 0x20000000;
    // What glibc's pthread_create passes: CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID.
    const ulong ThreadFlags = 0x003d0f00;
    const ulong ForkFlags = 0x01200011; // CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD

    static readonly Dictionary<string, CompiledSeccompFilter> Compiled = [];

    static CompiledSeccompFilter For(params string[] caps)
    {
        var key = string.Join(',', caps);
        lock (Compiled)
        {
            if (!Compiled.TryGetValue(key, out var filter))
                Compiled[key] = filter = SeccompCompiler.Compile(DefaultSeccompProfile.For(caps));
            return filter;
        }
    }

    static void AssertRet(uint expected, uint actual, string what) =>
        Assert.True(expected == actual, $"{what}: expected {Describe(expected)}, got {Describe(actual)}");

    [Fact]
    public void DefaultIsEpermWithTheX86Architectures()
    {
        var profile = DefaultSeccompProfile.For(SpecCaps);

        Assert.Equal("SCMP_ACT_ERRNO", profile.DefaultAction);
        Assert.Equal(1u, profile.DefaultErrnoRet);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], profile.Architectures!);
    }

    [Fact]
    public void Aarch64GetsArmArchitectures()
    {
        var profile = DefaultSeccompProfile.For(SpecCaps, "aarch64");

        Assert.Equal(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], profile.Architectures!);
        Assert.Contains(profile.Syscalls!, r => r.Names.Contains("set_tls"));
        Assert.DoesNotContain(profile.Syscalls!, r => r.Names.Contains("arch_prctl"));
        Assert.Equal(profile.Architectures, DefaultSeccompProfile.For(SpecCaps, "arm64").Architectures);
    }

    [Fact]
    public void X86_64GetsX86OnlyCalls()
    {
        var profile = DefaultSeccompProfile.For(SpecCaps);

        Assert.Contains(profile.Syscalls!, r => r.Names.Contains("arch_prctl"));
        Assert.DoesNotContain(profile.Syscalls!, r => r.Names.Contains("set_tls"));
        AssertRet(Allow, For(SpecCaps).Eval("arch_prctl"), "arch_prctl");
    }

    [Fact]
    public void EveryMachineProfileCompiles()
    {
        foreach (var machine in DefaultSeccompProfile.Machines)
        {
            var profile = DefaultSeccompProfile.For(SpecCaps, machine);
            if (machine == "s390x" && BitConverter.IsLittleEndian)
            {
                // A filter holds architectures of one byte order only: s390x is big-endian.
                var error = Assert.Throws<Moat.Runtime.RuntimeException>(() => SeccompCompiler.Compile(profile));
                Assert.Equal("linux.seccomp.architectures[0]: SCMP_ARCH_S390X cannot be filtered on this host (its byte order differs from the native architecture's)", error.Message);
                continue;
            }
            var filter = SeccompCompiler.Compile(profile);
            Assert.True(filter.InstructionCount > 100, machine);
        }
    }

    [Theory]
    [InlineData("read")]
    [InlineData("write")]
    [InlineData("openat")]
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
    public void OrdinaryCallsAreAllowed(string name)
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
    [InlineData("ptrace")]
    [InlineData("process_vm_readv")]
    [InlineData("process_vm_writev")]
    [InlineData("kcmp")]
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
    [InlineData("ptrace")]
    [InlineData("reboot")]
    [InlineData("kexec_load")]
    [InlineData("pivot_root")]
    public void CapSysAdminDoesNotOpenEverything(string name)
    {
        AssertRet(Eperm, For([.. SpecCaps, "CAP_SYS_ADMIN"]).Eval(name), name);
    }

    [Theory]
    [InlineData("ptrace")]
    [InlineData("process_vm_readv")]
    [InlineData("process_vm_writev")]
    [InlineData("kcmp")]
    [InlineData("pidfd_getfd")]
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
        string[] all =
        [
            "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_BOOT", "CAP_SYS_CHROOT", "CAP_SYS_MODULE", "CAP_SYS_PACCT",
            "CAP_SYS_RAWIO", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_SYS_NICE", "CAP_SYSLOG", "CAP_DAC_READ_SEARCH",
            "CAP_BPF", "CAP_PERFMON",
        ];

        var filter = For(all);

        AssertRet(Allow, filter.Eval("bpf"), "bpf");
        AssertRet(Allow, filter.Eval("syslog"), "syslog");
        AssertRet(Allow, filter.Eval("clone", CloneNewUser | ForkFlags), "clone");
        AssertRet(Eperm, filter.Eval("keyctl"), "keyctl");
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
    [InlineData(1ul, true)]  // AF_UNIX
    [InlineData(2ul, true)]  // AF_INET
    [InlineData(10ul, true)] // AF_INET6
    [InlineData(16ul, true)] // AF_NETLINK
    [InlineData(40ul, false)] // AF_VSOCK
    public void SocketAnyFamilyButVsock(ulong family, bool allowed)
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

    [Fact]
    public void I386CallsFollowTheSameRules()
    {
        var filter = For(SpecCaps);

        AssertRet(Allow, filter.EvalNr(Nr("getpid", TokenX86), AuditI386), "i386 getpid");
        AssertRet(Allow, filter.EvalNr(Nr("socketcall", TokenX86), AuditI386), "i386 socketcall");
        AssertRet(Eperm, filter.EvalNr(Nr("mount", TokenX86), AuditI386), "i386 mount");
        AssertRet(Eperm, filter.EvalNr(Nr("keyctl", TokenX86), AuditI386), "i386 keyctl");
        AssertRet(KillThread, filter.EvalNr(172, AuditAarch64), "aarch64 on an x86_64 profile");
    }

    [Fact]
    public void ForReturnsAFreshObjectEachTime()
    {
        var first = DefaultSeccompProfile.For(SpecCaps);
        first.Syscalls!.Clear();
        first.Architectures!.Clear();

        var second = DefaultSeccompProfile.For(SpecCaps);

        Assert.NotEmpty(second.Syscalls!);
        Assert.NotEmpty(second.Architectures!);
    }

    [Fact]
    public void ResourceUsesOnlyKnownNames()
    {
        var document = DefaultSeccompProfile.Document;

        Assert.True(SeccompNames.IsAction(document.DefaultAction));
        foreach (var rule in document.Syscalls)
        {
            Assert.True(SeccompNames.IsAction(rule.Action), rule.Action);
            Assert.NotEmpty(rule.Names);
            Assert.All(rule.Args ?? [], a => Assert.True(SeccompNames.IsOperator(a.Op), a.Op));
            Assert.All(rule.Includes?.Caps ?? [], c => Assert.StartsWith("CAP_", c));
            Assert.All(rule.Excludes?.Caps ?? [], c => Assert.StartsWith("CAP_", c));
            Assert.All((rule.Includes?.Arches ?? []).Concat(rule.Excludes?.Arches ?? []), m => Assert.Contains(m, DefaultSeccompProfile.Machines));
        }
        foreach (var arch in document.ArchMap)
            Assert.All(arch.Architectures, a => Assert.True(SeccompNames.IsArchitecture(a), a));
    }

    [Fact]
    public void OciFormIsValidForTheSpecValidator()
    {
        // The emitted profile must pass the same checks a user's config.json does.
        using var bundle = new Moat.Tests.Unit.Oci.TempBundle();
        var spec = DefaultSpec.Create(rootless: false);
        spec.Linux!.Seccomp = DefaultSeccompProfile.For(SpecCaps);

        SpecValidator.Validate(spec, bundle.Directory);
    }

    [Fact]
    public void HostMachineHasAProfile()
    {
        Assert.Contains(DefaultSeccompProfile.HostMachine, DefaultSeccompProfile.Machines);
    }
}
