using Moat.Audit;
using Moat.Audit.Seccomp;
using Moat.Oci;

namespace Moat.Tests.Audit.Seccomp;

public sealed class ProfileDiffTests
{
    static LinuxSeccomp Profile(string defaultAction, params LinuxSyscall[] rules) =>
        new() { DefaultAction = defaultAction, Syscalls = [.. rules] };

    static LinuxSyscall Rule(string action, params string[] names) => new() { Action = action, Names = [.. names] };

    [Fact]
    public void Lists_calls_allowed_beyond_the_baseline_only()
    {
        var tight = Profile(SeccompNames.ActErrno, Rule(SeccompNames.ActAllow, "read", "write"));
        var loose = Profile(SeccompNames.ActErrno, Rule(SeccompNames.ActAllow, "read", "write", "mount", "keyctl"));
        var beyond = ProfileDiff.Beyond(loose, tight, []);
        Assert.Equal(["keyctl", "mount"], beyond.Select(d => d.Syscall));
        Assert.Equal("errno 1 (default)", beyond[0].Baseline.Detail);
        Assert.Empty(ProfileDiff.Beyond(tight, loose, []));
    }

    [Fact]
    public void An_allowing_default_counts_for_every_known_call()
    {
        var open = Profile(SeccompNames.ActAllow, Rule(SeccompNames.ActErrno, "mount"));
        var tight = Profile(SeccompNames.ActErrno, Rule(SeccompNames.ActAllow, "read"));
        var beyond = ProfileDiff.Beyond(open, tight, ["read", "mount", "unshare", "ptrace"]);
        Assert.Equal(["ptrace", "unshare"], beyond.Select(d => d.Syscall));
        Assert.Equal("allowed (default)", beyond[0].Profile.Detail);
    }

    [Fact]
    public void Conditions_are_looser_than_refusal_and_tighter_than_allowing()
    {
        var conditional = Profile(SeccompNames.ActErrno, new LinuxSyscall
        {
            Action = SeccompNames.ActAllow, Names = ["personality"],
            Args = [new LinuxSeccompArg { Index = 0, Value = 8, Op = "SCMP_CMP_EQ" }],
        });
        var refused = Profile(SeccompNames.ActErrno);
        var allowed = Profile(SeccompNames.ActErrno, Rule(SeccompNames.ActAllow, "personality"));
        Assert.Equal("allowed if arg0 == 8", Assert.Single(ProfileDiff.Beyond(conditional, refused, [])).Profile.Detail);
        Assert.Single(ProfileDiff.Beyond(allowed, conditional, []));
        Assert.Empty(ProfileDiff.Beyond(conditional, allowed, []));
    }

    [Fact]
    public void The_default_profile_and_config_files_load()
    {
        var work = Directory.CreateTempSubdirectory("moat-seccomp-diff-").FullName;
        try
        {
            var defaults = ProfileFile.Load(ProfileFile.DefaultName);
            Assert.Equal(SyscallVerdictKind.Refused, ProfileDiff.VerdictOf(defaults, "mount").Kind);
            Assert.Equal(SyscallVerdictKind.Allowed, ProfileDiff.VerdictOf(defaults, "read").Kind);
            var written = Path.Combine(work, "profile.json");
            ProfileFile.Write(written, defaults);
            Assert.Empty(ProfileDiff.Beyond(ProfileFile.Load(written), defaults, []));
            var config = Path.Combine(work, "config.json");
            File.WriteAllText(config, """{"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"]}}""");
            var error = Assert.Throws<AuditException>(() => ProfileFile.Load(config));
            Assert.Contains("without linux.seccomp", error.Message);
            File.WriteAllText(written, "{\"defaultAction\": 7}");
            Assert.Contains("is not a seccomp profile", Assert.Throws<AuditException>(() => ProfileFile.Load(written)).Message);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
