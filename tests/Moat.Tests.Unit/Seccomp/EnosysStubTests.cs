using Moat.Oci;
using Moat.Runtime.Seccomp;
using Xunit;
using static Moat.Tests.Unit.Seccomp.SeccompKit;

namespace Moat.Tests.Unit.Seccomp;

public sealed class EnosysStubTests
{
    static void AssertRet(uint expected, uint actual) =>
        Assert.True(expected == actual, $"expected {Describe(expected)}, got {Describe(actual)}");

    // read 0, write 1, getpid 39, openat 257 on x86_64: the highest named is openat.
    static LinuxSeccomp Small(string defaultAction = "SCMP_ACT_ERRNO") =>
        Profile(defaultAction, Rule("SCMP_ACT_ALLOW", "read", "write", "getpid", "openat"));

    [Fact]
    public void SyscallAboveEveryNamedOneGetsEnosys()
    {
        var filter = SeccompCompiler.Compile(Small());

        Assert.True(filter.EnosysStubLength > 0);
        AssertRet(Enosys, filter.EvalNr(Nr("openat") + 1));
        AssertRet(Enosys, filter.EvalNr(Nr("clone3")));
        AssertRet(Enosys, filter.EvalNr(1000));
    }

    [Fact]
    public void UnnamedSyscallBelowTheHighestGetsTheDefaultAction()
    {
        var filter = SeccompCompiler.Compile(Small());

        AssertRet(Eperm, filter.Eval("mount"));
        AssertRet(Eperm, filter.EvalNr(Nr("openat") - 1));
        AssertRet(Allow, filter.Eval("openat"));
        AssertRet(Allow, filter.Eval("read"));
    }

    [Fact]
    public void NamesWhoseRuleIsSkippedStillCountForTheLimit()
    {
        // The ERRNO(1) rule equals the default action and is left out, but clone3 is still "known".
        var profile = Profile("SCMP_ACT_ERRNO", Rule("SCMP_ACT_ALLOW", "read"), Rule("SCMP_ACT_ERRNO", "clone3"));

        var filter = SeccompCompiler.Compile(profile);

        AssertRet(Eperm, filter.Eval("clone3"));
        AssertRet(Enosys, filter.EvalNr(Nr("clone3") + 1));
    }

    [Theory]
    [InlineData("SCMP_ACT_KILL_PROCESS", KillProcess)]
    [InlineData("SCMP_ACT_KILL", KillThread)]
    [InlineData("SCMP_ACT_TRAP", Trap)]
    public void NonPermissiveDefaultsGetTheStub(string defaultAction, uint expected)
    {
        var filter = SeccompCompiler.Compile(Small(defaultAction));

        AssertRet(Enosys, filter.EvalNr(1000));
        AssertRet(expected, filter.Eval("mount"));
    }

    [Theory]
    [InlineData("SCMP_ACT_ALLOW", Allow)]
    [InlineData("SCMP_ACT_LOG", Log)]
    [InlineData("SCMP_ACT_TRACE", 0x7ff00001u)]
    public void PermissiveDefaultsHaveNoStub(string defaultAction, uint expected)
    {
        var profile = Profile(defaultAction, Rule("SCMP_ACT_ERRNO", "openat"));

        var filter = SeccompCompiler.Compile(profile);

        Assert.Equal(0, filter.EnosysStubLength);
        AssertRet(expected, filter.EvalNr(1000));
    }

    [Fact]
    public void DefaultErrnoEnosysNeedsNoStub()
    {
        var profile = Small();
        profile.DefaultErrnoRet = 38;

        var filter = SeccompCompiler.Compile(profile);

        Assert.Equal(0, filter.EnosysStubLength);
        AssertRet(Enosys, filter.EvalNr(1000));
        AssertRet(Enosys, filter.Eval("mount"));
    }

    [Fact]
    public void StubComesFirstAndFallsIntoLibseccompsProgram()
    {
        var filter = SeccompCompiler.Compile(Small());
        var program = BpfInstruction.Decode(filter.Program);

        Assert.Equal(Bpf.Stmt(Bpf.LD | Bpf.W | Bpf.ABS, Bpf.DataArch), program[0]);
        Assert.Equal(new BpfInstruction(Bpf.RET, 0, 0, Enosys), program[filter.EnosysStubLength - 1]);
        // libseccomp's program loads the architecture itself: nothing depends on the stub's registers.
        Assert.Equal(Bpf.Stmt(Bpf.LD | Bpf.W | Bpf.ABS, Bpf.DataArch), program[filter.EnosysStubLength]);
    }

    [Fact]
    public void OtherArchitecturesPassThroughTheStub()
    {
        var filter = SeccompCompiler.Compile(Small());

        // Not in the filter: libseccomp's bad-architecture action, even for a huge number.
        AssertRet(KillThread, filter.EvalNr(1000, AuditAarch64));
    }

    [Fact]
    public void I386HasItsOwnLimit()
    {
        var profile = Small();
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"];

        var filter = SeccompCompiler.Compile(profile);

        var maxI386 = new[] { "read", "write", "getpid", "openat" }.Max(n => Nr(n, TokenX86));
        AssertRet(Allow, filter.EvalNr(Nr("openat", TokenX86), AuditI386));
        AssertRet(Enosys, filter.EvalNr(maxI386 + 1, AuditI386));
        AssertRet(Eperm, filter.EvalNr(Nr("mount", TokenX86), AuditI386));
        AssertRet(Enosys, filter.EvalNr(1000));
    }

    [Fact]
    public void X32AndX86_64SplitOnTheX32Bit()
    {
        var profile = Small();
        profile.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"];

        var filter = SeccompCompiler.Compile(profile);

        var maxX32 = new[] { "read", "write", "getpid", "openat" }.Max(n => Nr(n, TokenX32));
        AssertRet(Allow, filter.EvalNr(Nr("openat", TokenX32), AuditX86_64));
        AssertRet(Enosys, filter.EvalNr(maxX32 + 1, AuditX86_64));
        AssertRet(Eperm, filter.EvalNr(Nr("mount", TokenX32), AuditX86_64));
        // The x86_64 half keeps its own limit.
        AssertRet(Enosys, filter.EvalNr(Nr("openat") + 1));
        AssertRet(Eperm, filter.Eval("mount"));
    }

    [Fact]
    public void X32CallsWithoutX32GoToLibseccomp()
    {
        var filter = SeccompCompiler.Compile(Small());

        // Bit 30 set and no x32 in the profile: libseccomp's program decides (bad architecture).
        AssertRet(KillThread, filter.EvalNr((int)(X32Bit | 1000), AuditX86_64));
    }

    [Fact]
    public void StubAloneMatchesItsDescription()
    {
        // Hand-checked shape for x86_64 only: ld arch; jeq x86_64; ja filter; ld nr; jset x32 -> filter; jgt max -> enosys; ret enosys.
        var stub = EnosysStub.Build([new EnosysStub.ArchLimit(EnosysStub.AuditArchX86_64, 257)]);

        Assert.Equal(7, stub.Length);
        Assert.Equal(0x00000001u, BpfInterpreter.Run([.. stub, new BpfInstruction(Bpf.RET, 0, 0, 1)], new SeccompData(257, AuditX86_64)));
        Assert.Equal(Enosys, BpfInterpreter.Run([.. stub, new BpfInstruction(Bpf.RET, 0, 0, 1)], new SeccompData(258, AuditX86_64)));
        Assert.Equal(0x00000001u, BpfInterpreter.Run([.. stub, new BpfInstruction(Bpf.RET, 0, 0, 1)], new SeccompData(258, AuditI386)));
        Assert.Equal(0x00000001u, BpfInterpreter.Run([.. stub, new BpfInstruction(Bpf.RET, 0, 0, 1)], new SeccompData(unchecked((int)(X32Bit | 999)), AuditX86_64)));
    }

    [Fact]
    public void S390SyscallZeroIsEnosys()
    {
        var stub = EnosysStub.Build([new EnosysStub.ArchLimit(EnosysStub.AuditArchS390X, 400)]);
        BpfInstruction[] program = [.. stub, new BpfInstruction(Bpf.RET, 0, 0, 1)];

        Assert.Equal(Enosys, BpfInterpreter.Run(program, new SeccompData(0, EnosysStub.AuditArchS390X)));
        Assert.Equal(1u, BpfInterpreter.Run(program, new SeccompData(4, EnosysStub.AuditArchS390X)));
        Assert.Equal(Enosys, BpfInterpreter.Run(program, new SeccompData(401, EnosysStub.AuditArchS390X)));
    }

    [Fact]
    public void NoLimitsNoStub()
    {
        Assert.Empty(EnosysStub.Build([]));
        // A profile naming no syscall at all has nothing to compare against.
        Assert.Equal(0, SeccompCompiler.Compile(Profile("SCMP_ACT_ERRNO")).EnosysStubLength);
    }
}
