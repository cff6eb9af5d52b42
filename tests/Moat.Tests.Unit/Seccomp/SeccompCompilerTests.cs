using Moat.Interop;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Seccomp;
using Xunit;
using static Moat.Tests.Unit.Seccomp.SeccompKit;

namespace Moat.Tests.Unit.Seccomp;

public sealed class SeccompCompilerTests
{
    static void AssertRet(uint expected, uint actual) =>
        Assert.True(expected == actual, $"expected {Describe(expected)} (0x{expected:x8}), got {Describe(actual)} (0x{actual:x8})");

    [Theory]
    [InlineData("SCMP_ACT_KILL", null, KillThread)]
    [InlineData("SCMP_ACT_KILL_THREAD", null, KillThread)]
    [InlineData("SCMP_ACT_KILL_PROCESS", null, KillProcess)]
    [InlineData("SCMP_ACT_TRAP", null, Trap)]
    [InlineData("SCMP_ACT_ERRNO", null, 0x00050001u)]
    [InlineData("SCMP_ACT_ERRNO", 13u, 0x0005000du)]
    [InlineData("SCMP_ACT_ERRNO", 0u, 0x00050000u)]
    [InlineData("SCMP_ACT_TRACE", null, 0x7ff00001u)]
    [InlineData("SCMP_ACT_TRACE", 42u, 0x7ff0002au)]
    [InlineData("SCMP_ACT_ALLOW", null, Allow)]
    [InlineData("SCMP_ACT_LOG", null, Log)]
    public void DefaultActionIsWhatAnUnlistedSyscallGets(string action, uint? errnoRet, uint expected)
    {
        var profile = Profile(action);
        profile.DefaultErrnoRet = errnoRet;

        var filter = SeccompCompiler.Compile(profile);

        AssertRet(expected, filter.Eval("getpid"));
        AssertRet(expected, filter.Eval("mount"));
    }

    [Theory]
    [InlineData("SCMP_ACT_KILL", null, KillThread)]
    [InlineData("SCMP_ACT_KILL_THREAD", null, KillThread)]
    [InlineData("SCMP_ACT_KILL_PROCESS", null, KillProcess)]
    [InlineData("SCMP_ACT_TRAP", null, Trap)]
    [InlineData("SCMP_ACT_ERRNO", null, 0x00050001u)]
    [InlineData("SCMP_ACT_ERRNO", 22u, 0x00050016u)]
    [InlineData("SCMP_ACT_TRACE", null, 0x7ff00001u)]
    [InlineData("SCMP_ACT_TRACE", 7u, 0x7ff00007u)]
    [InlineData("SCMP_ACT_ALLOW", null, Allow)]
    [InlineData("SCMP_ACT_LOG", null, Log)]
    [InlineData("SCMP_ACT_NOTIFY", null, Notify)]
    public void EveryRuleActionHasItsReturnValue(string action, uint? errnoRet, uint expected)
    {
        var rule = Rule(action, "getppid");
        rule.ErrnoRet = errnoRet;
        // ERRNO(5) as default so that no rule action equals it.
        var profile = Profile("SCMP_ACT_ERRNO", rule, Rule("SCMP_ACT_ALLOW", "read"));
        profile.DefaultErrnoRet = 5;
        profile.ListenerPath = "/run/listener.sock";

        var filter = SeccompCompiler.Compile(profile);

        AssertRet(expected, filter.Eval("getppid"));
        AssertRet(Allow, filter.Eval("read"));
        AssertRet(Errno(5), filter.Eval("getpid"));
    }

    [Fact]
    public void RuleWithTheDefaultActionIsSkipped()
    {
        // libseccomp refuses such a rule (EACCES); runc leaves it out, and so does Moat.
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ERRNO", "getpid"), Rule("SCMP_ACT_ALLOW", "read")));

        AssertRet(Eperm, filter.Eval("getpid"));
        AssertRet(Allow, filter.Eval("read"));
    }

    [Fact]
    public void ErrnoRuleDiffersFromErrnoDefaultByItsValue()
    {
        var rule = Rule("SCMP_ACT_ERRNO", "getpid");
        rule.ErrnoRet = 38;
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO", rule, Rule("SCMP_ACT_ALLOW", "read")));

        AssertRet(Enosys, filter.Eval("getpid"));
    }

    [Theory]
    [InlineData("SCMP_CMP_EQ", 5ul, 0ul, 5ul, true)]
    [InlineData("SCMP_CMP_EQ", 5ul, 0ul, 6ul, false)]
    [InlineData("SCMP_CMP_EQ", 0x1_0000_0005ul, 0ul, 5ul, false)]
    [InlineData("SCMP_CMP_EQ", 0x1_0000_0005ul, 0ul, 0x1_0000_0005ul, true)]
    [InlineData("SCMP_CMP_NE", 5ul, 0ul, 5ul, false)]
    [InlineData("SCMP_CMP_NE", 5ul, 0ul, 0x1_0000_0005ul, true)]
    [InlineData("SCMP_CMP_LT", 10ul, 0ul, 9ul, true)]
    [InlineData("SCMP_CMP_LT", 10ul, 0ul, 10ul, false)]
    [InlineData("SCMP_CMP_LT", 10ul, 0ul, 0x1_0000_0000ul, false)]
    [InlineData("SCMP_CMP_LE", 10ul, 0ul, 10ul, true)]
    [InlineData("SCMP_CMP_LE", 10ul, 0ul, 11ul, false)]
    [InlineData("SCMP_CMP_GT", 10ul, 0ul, 11ul, true)]
    [InlineData("SCMP_CMP_GT", 10ul, 0ul, 10ul, false)]
    [InlineData("SCMP_CMP_GT", 10ul, 0ul, 0x2_0000_0000ul, true)]
    [InlineData("SCMP_CMP_GE", 10ul, 0ul, 10ul, true)]
    [InlineData("SCMP_CMP_GE", 10ul, 0ul, 9ul, false)]
    // MASKED_EQ: (arg & value) == valueTwo.
    [InlineData("SCMP_CMP_MASKED_EQ", 0xf0ul, 0x30ul, 0x3ful, true)]
    [InlineData("SCMP_CMP_MASKED_EQ", 0xf0ul, 0x30ul, 0x4ful, false)]
    [InlineData("SCMP_CMP_MASKED_EQ", 0x7E020000ul, 0ul, 0x11ul, true)]
    [InlineData("SCMP_CMP_MASKED_EQ", 0x7E020000ul, 0ul, 0x10000011ul, false)]
    [InlineData("SCMP_CMP_MASKED_EQ", 0xff_0000_0000ul, 0x12_0000_0000ul, 0x12_ffff_ffffUL, true)]
    public void ArgumentOperators(string op, ulong value, ulong valueTwo, ulong argument, bool allowed)
    {
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ALLOW", "ioctl", Arg(1, op, value, valueTwo))));

        AssertRet(allowed ? Allow : Eperm, filter.Eval("ioctl", 3, argument));
    }

    [Fact]
    public void ConditionsOnDifferentArgumentsMustAllHold()
    {
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ALLOW", "ioctl", Arg(0, "SCMP_CMP_EQ", 1), Arg(1, "SCMP_CMP_EQ", 0x5401))));

        AssertRet(Allow, filter.Eval("ioctl", 1, 0x5401));
        AssertRet(Eperm, filter.Eval("ioctl", 2, 0x5401));
        AssertRet(Eperm, filter.Eval("ioctl", 1, 0x5402));
    }

    [Fact]
    public void TwoConditionsOnOneArgumentBecomeAlternatives()
    {
        // libseccomp refuses both in one rule; runc adds one rule per condition, so either matches.
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ALLOW", "personality", Arg(0, "SCMP_CMP_EQ", 0), Arg(0, "SCMP_CMP_EQ", 8))));

        AssertRet(Allow, filter.Eval("personality", 0));
        AssertRet(Allow, filter.Eval("personality", 8));
        AssertRet(Eperm, filter.Eval("personality", 0x400000));
    }

    [Fact]
    public void SharedArgumentSplitsEveryConditionOfTheRule()
    {
        // Once one argument repeats, runc splits all of the rule's conditions (arg 1 included).
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ALLOW", "ioctl", Arg(0, "SCMP_CMP_GT", 10), Arg(0, "SCMP_CMP_LT", 3), Arg(1, "SCMP_CMP_EQ", 7))));

        AssertRet(Allow, filter.Eval("ioctl", 20, 0));
        AssertRet(Allow, filter.Eval("ioctl", 1, 0));
        AssertRet(Allow, filter.Eval("ioctl", 5, 7));
        AssertRet(Eperm, filter.Eval("ioctl", 5, 8));
    }

    [Fact]
    public void UnknownSyscallNamesAreSkipped()
    {
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ALLOW", "getpid", "moat_no_such_syscall", "read")));

        Assert.Equal(new[] { "moat_no_such_syscall" }, filter.SkippedSyscalls);
        AssertRet(Allow, filter.Eval("getpid"));
        AssertRet(Allow, filter.Eval("read"));
    }

    [Fact]
    public void RuleWithOnlyUnknownNamesCompiles()
    {
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "moat_no_such_syscall")));

        AssertRet(Allow, filter.Eval("getpid"));
    }

    [Fact]
    public void NativeArchitectureIsAlwaysInTheFilter()
    {
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid")));

        Assert.Equal(new[] { TokenX86_64 }, filter.ArchitectureTokens);
        AssertRet(Allow, filter.Eval("getpid"));
        // Another architecture gets libseccomp's bad-architecture action (KILL_THREAD).
        AssertRet(KillThread, filter.EvalNr(Nr("getpid", TokenX86), AuditI386));
        AssertRet(KillThread, filter.EvalNr(172, AuditAarch64));
    }

    [Fact]
    public void AddedArchitecturesGetTheirOwnSyscallNumbers()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid", "mmap2"));
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"];

        var filter = SeccompCompiler.Compile(profile);

        Assert.Equal(new[] { TokenX86_64, TokenX86 }, filter.ArchitectureTokens);
        AssertRet(Allow, filter.EvalNr(Nr("getpid", TokenX86), AuditI386));
        AssertRet(Allow, filter.EvalNr(Nr("mmap2", TokenX86), AuditI386));
        AssertRet(Eperm, filter.EvalNr(Nr("read", TokenX86), AuditI386));
        AssertRet(Allow, filter.Eval("getpid"));
        AssertRet(KillThread, filter.EvalNr(172, AuditAarch64));
    }

    [Fact]
    public void X32SyscallsNeedTheX32Architecture()
    {
        var without = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid")));
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid"));
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"];
        var with = SeccompCompiler.Compile(profile);

        var x32Getpid = Nr("getpid", TokenX32);
        Assert.Equal(X32Bit, (uint)x32Getpid & X32Bit);
        AssertRet(KillThread, without.EvalNr(x32Getpid, AuditX86_64));
        AssertRet(Allow, with.EvalNr(x32Getpid, AuditX86_64));
        AssertRet(Eperm, with.EvalNr(Nr("read", TokenX32), AuditX86_64));
    }

    [Fact]
    public void ArchitectureLibseccompDoesNotKnowIsAnError()
    {
        var profile = Profile("SCMP_ACT_ERRNO");
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64"];
        if (Libseccomp.seccomp_arch_resolve_name("loongarch64") != 0)
            return; // a newer libseccomp knows it: nothing to refuse

        var error = Assert.Throws<RuntimeException>(() => SeccompCompiler.Compile(profile));

        Assert.StartsWith("linux.seccomp.architectures[1]: SCMP_ARCH_LOONGARCH64 is not supported by this host's libseccomp", error.Message);
    }

    public static TheoryData<string, Action<LinuxSeccomp>> BadProfiles => new()
    {
        { "linux.seccomp.defaultAction: must be set", p => p.DefaultAction = "" },
        { "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"", p => p.DefaultAction = "SCMP_ACT_FOO" },
        { "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action", p => p.DefaultAction = "SCMP_ACT_NOTIFY" },
        { "linux.seccomp.defaultErrnoRet: cannot be used with SCMP_ACT_ALLOW", p => { p.DefaultAction = "SCMP_ACT_ALLOW"; p.DefaultErrnoRet = 1; } },
        { "linux.seccomp.defaultErrnoRet: 70000 is not an errno value (0..4095)", p => p.DefaultErrnoRet = 70000 },
        { "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"", p => p.Architectures = ["SCMP_ARCH_X86", "SCMP_ARCH_VAX"] },
        { "linux.seccomp.flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"", p => p.Flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FOO"] },
        { "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"", p => p.Syscalls![1].Action = "SCMP_ACT_FOO" },
        { "linux.seccomp.syscalls[1].action: must be set", p => p.Syscalls![1].Action = "" },
        { "linux.seccomp.syscalls[0].names: must contain at least one syscall name", p => p.Syscalls![0].Names = [] },
        { "linux.seccomp.syscalls[1].names[1]: must not be empty", p => p.Syscalls![1].Names = ["read", ""] },
        { "linux.seccomp.syscalls[1].errnoRet: cannot be used with SCMP_ACT_ALLOW", p => p.Syscalls![1].ErrnoRet = 3 },
        { "linux.seccomp.syscalls[1].args[1].index: 6 is outside the range 0..5", p => p.Syscalls![1].Args = [Arg(0, "SCMP_CMP_EQ", 1), Arg(6, "SCMP_CMP_EQ", 1)] },
        { "linux.seccomp.syscalls[1].args[0].op: unknown operator \"SCMP_CMP_FOO\"", p => p.Syscalls![1].Args = [Arg(0, "SCMP_CMP_FOO", 1)] },
        { "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY cannot be used for the write syscall", p => { p.Syscalls![1].Action = "SCMP_ACT_NOTIFY"; p.Syscalls[1].Names = ["read", "write"]; } },
    };

    [Theory]
    [MemberData(nameof(BadProfiles))]
    public void MistakesAreRefusedNamingTheField(string expected, Action<LinuxSeccomp> spoil)
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid"), Rule("SCMP_ACT_ALLOW", "read"));
        spoil(profile);

        var error = Assert.Throws<RuntimeException>(() => SeccompCompiler.Compile(profile));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void NotifyingSendmsgNeedsAListenerThatTakesTheDescriptorItself()
    {
        // SCM_RIGHTS to a listenerPath is a sendmsg the filter would hold; a tier's supervisor takes it with pidfd_getfd.
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid"), Rule("SCMP_ACT_NOTIFY", "sendmsg"));

        var error = Assert.Throws<RuntimeException>(() => SeccompCompiler.CheckHandover(profile, lent: false));

        Assert.Equal("linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall", error.Message);
        SeccompCompiler.CheckHandover(profile, lent: true);
    }

    [Fact]
    public void FourthRuleWithUnknownActionIsNamedByIndex()
    {
        var profile = Profile("SCMP_ACT_ERRNO",
            Rule("SCMP_ACT_ALLOW", "read"), Rule("SCMP_ACT_ALLOW", "write"), Rule("SCMP_ACT_ALLOW", "close"), Rule("SCMP_ACT_FOO", "getpid"));

        var error = Assert.Throws<RuntimeException>(() => SeccompCompiler.Compile(profile));

        Assert.Equal("linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"", error.Message);
    }

    [Theory]
    [InlineData("SECCOMP_FILTER_FLAG_TSYNC", 1u)]
    [InlineData("SECCOMP_FILTER_FLAG_LOG", 2u)]
    [InlineData("SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4u)]
    public void FlagsMapToTheKernelBits(string flag, uint expected)
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid"));
        profile.Flags = [flag];

        var filter = SeccompCompiler.Compile(profile);

        Assert.Equal(expected, filter.Flags);
        Assert.False(filter.HasListener);
    }

    [Fact]
    public void NoFlagsWithoutFlagsOrNotify()
    {
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid")));

        Assert.Equal(0u, filter.Flags);
    }

    [Fact]
    public void AllFlagsTogether()
    {
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid"));
        profile.Flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"];

        Assert.Equal(7u, SeccompCompiler.Compile(profile).Flags);
    }

    [Fact]
    public void NotifyRuleAsksForAListener()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_NOTIFY", "mknod", "mknodat"));
        profile.ListenerPath = "/run/agent.sock";
        profile.ListenerMetadata = "MKNOD=/dev/null";

        var filter = SeccompCompiler.Compile(profile);

        Assert.Equal(Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER, filter.Flags);
        Assert.True(filter.HasListener);
        Assert.Equal("/run/agent.sock", filter.ListenerPath);
        Assert.Equal("MKNOD=/dev/null", filter.ListenerMetadata);
        AssertRet(Notify, filter.Eval("mknodat"));
    }

    [Fact]
    public void WaitKillableRecvNeedsAListener()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_ERRNO", "mknod"));
        profile.Flags = ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"];
        // The kernel refuses the flag without NEW_LISTENER: it is dropped.
        Assert.Equal(0u, SeccompCompiler.Compile(profile).Flags);

        profile.Syscalls![0].Action = "SCMP_ACT_NOTIFY";
        Assert.Equal(8u | 32u, SeccompCompiler.Compile(profile).Flags);
    }

    [Fact]
    public void TsyncWithAListenerAddsTsyncEsrch()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_NOTIFY", "mknod"));
        profile.Flags = ["SECCOMP_FILTER_FLAG_TSYNC"];

        Assert.Equal(1u | 8u | 16u, SeccompCompiler.Compile(profile).Flags);
    }

    [Fact]
    public void FormatFlagsNamesEachBit()
    {
        Assert.Equal("SECCOMP_FILTER_FLAG_TSYNC|SECCOMP_FILTER_FLAG_NEW_LISTENER", SeccompCompiler.FormatFlags(9));
        Assert.Equal("0", SeccompCompiler.FormatFlags(0));
    }

    [Fact]
    public void ProgramIsWholeInstructionsWithinTheKernelLimit()
    {
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read", "write")));

        Assert.Equal(0, filter.Program.Length % 8);
        Assert.InRange(filter.InstructionCount, 4, Libc.BPF_MAXINSNS);
        Assert.Contains("ret ALLOW", filter.Disassemble());
        Assert.Contains("ret ERRNO(1)", filter.Disassemble());
    }

    [Fact]
    public void PseudoCodeShowsTheRules()
    {
        var text = SeccompCompiler.ExportPseudoCode(Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "getpid")));

        Assert.Contains("getpid", text);
        Assert.Contains("ERRNO(1)", text);
    }

    [Fact]
    public void CompilingHasNoEffectOnTheProcess()
    {
        // Compile twice with the strictest default: the test process carries on unaffected
        // (getpid works, no seccomp filter is installed: /proc/self/status says Seccomp: 0).
        SeccompCompiler.Compile(Profile("SCMP_ACT_KILL_PROCESS", Rule("SCMP_ACT_ALLOW", "read")));
        SeccompCompiler.Compile(Profile("SCMP_ACT_KILL_PROCESS", Rule("SCMP_ACT_ALLOW", "read")));

        Assert.Contains(File.ReadAllLines("/proc/thread-self/status"), l => l.StartsWith("Seccomp:") && l.EndsWith("0"));
        Assert.True(Environment.ProcessId > 0);
    }

    [Fact]
    public void LibseccompVersionIsReported()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", SeccompCompiler.LibseccompVersion);
    }
}
