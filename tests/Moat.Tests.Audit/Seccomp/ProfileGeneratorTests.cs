using Moat.Audit.Seccomp;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Tests.Audit.Seccomp;

public sealed class ProfileGeneratorTests
{
    static SyscallRecording Recording(params string[] names)
    {
        var recording = new SyscallRecording();
        foreach (var name in names)
            recording.Add(Libc.AUDIT_ARCH_X86_64, name);
        return recording;
    }

    [Fact]
    public void Allows_exactly_what_was_recorded_and_refuses_the_rest_with_EPERM()
    {
        var profile = ProfileGenerator.Generate(Recording("read", "openat", "execve"), ["SCMP_ARCH_X86_64"]);
        Assert.Equal(SeccompNames.ActErrno, profile.DefaultAction);
        Assert.Equal(1u, profile.DefaultErrnoRet);
        var allowed = profile.Syscalls![0];
        Assert.Equal(SeccompNames.ActAllow, allowed.Action);
        // What was recorded, the calls the runtime never lets the filter trap, and the ways a process ends.
        Assert.Equal(["close", "execve", "exit", "exit_group", "openat", "read", "rt_sigreturn", "sendmsg", "write"], allowed.Names);
        Assert.Equal(SyscallVerdictKind.Refused, ProfileDiff.VerdictOf(profile, "mount").Kind);
        Assert.Equal(SyscallVerdictKind.Refused, ProfileDiff.VerdictOf(profile, "unshare").Kind);
    }

    [Fact]
    public void Clone_without_namespace_flags_is_allowed_only_without_them()
    {
        var recording = Recording("clone");
        recording.AddCloneFlags(0x01200011); // fork(): CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD
        var profile = ProfileGenerator.Generate(recording, null);
        var clone = Assert.Single(profile.Syscalls!, r => r.Names.SequenceEqual(["clone"]));
        var condition = Assert.Single(clone.Args!);
        Assert.Equal(("SCMP_CMP_MASKED_EQ", 0x7E020000ul, 0ul), (condition.Op, condition.Value, condition.ValueTwo));
    }

    [Fact]
    public void Clone_is_allowed_whole_when_the_program_made_namespaces()
    {
        var recording = Recording("clone");
        recording.AddCloneFlags(0x20000000 | 17); // CLONE_NEWPID
        var clone = Assert.Single(ProfileGenerator.Generate(recording, null).Syscalls!, r => r.Names.SequenceEqual(["clone"]));
        Assert.Null(clone.Args);
    }

    [Fact]
    public void Socket_is_allowed_per_recorded_family_and_clone3_falls_back()
    {
        var recording = Recording("socket", "connect");
        recording.AddSocketFamily(2);
        recording.AddSocketFamily(1);
        var profile = ProfileGenerator.Generate(recording, null);
        var families = profile.Syscalls!.Where(r => r.Names.SequenceEqual(["socket"])).Select(r => Assert.Single(r.Args!)).ToList();
        Assert.Equal([1ul, 2ul], families.Select(a => a.Value));
        Assert.All(families, a => Assert.Equal("SCMP_CMP_EQ", a.Op));
        Assert.DoesNotContain("socket", profile.Syscalls![0].Names);
        var clone3 = Assert.Single(profile.Syscalls!, r => r.Names.SequenceEqual(["clone3"]));
        Assert.Equal((SeccompNames.ActErrno, 38u), (clone3.Action, clone3.ErrnoRet!.Value));
        Assert.Equal("allowed if arg0 == 1 or arg0 == 2", ProfileDiff.VerdictOf(profile, "socket").Detail);
    }
}
