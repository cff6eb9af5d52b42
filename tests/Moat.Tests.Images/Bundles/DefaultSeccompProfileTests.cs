using Moat.Interop;
using Moat.Oci;
using Moat.Oci.Profiles;

namespace Moat.Tests.Images.Bundles;

public sealed class DefaultSeccompProfileTests
{
    static readonly HashSet<string> DockerCaps =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    /// <summary>
    /// Names in moby's profile that libseccomp 2.5.4 (Debian 12) does not know yet: newer system calls.
    /// The runtime skips unknown names (SeccompCompiler.AddRules, as runc does) and answers ENOSYS for
    /// calls above the highest number it knows, so they cost nothing here and work with a newer libseccomp.
    /// </summary>
    static readonly HashSet<string> NewerThanLibseccomp =
    [
        "cachestat", "fchmodat2", "futex_requeue", "futex_wait", "futex_wake", "getxattrat", "listmount", "listxattrat",
        "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "map_shadow_stack", "mseal", "removexattrat", "riscv_hwprobe",
        "setxattrat", "statmount", "uretprobe",
    ];

    static List<LinuxSyscall> RulesFor(LinuxSeccomp profile, string name) =>
        profile.Syscalls!.Where(s => s.Names.Contains(name)).ToList();

    [Fact]
    public void EveryNameIsKnownToLibseccompOrListedAsNewer()
    {
        Assert.True(Libseccomp.IsAvailable, "libseccomp.so.2 is needed for this check (Debian package libseccomp2)");
        var x86_64 = Libseccomp.seccomp_arch_resolve_name("x86_64");
        Assert.NotEqual(0u, x86_64);
        var unknown = DefaultSeccompProfile.AllNames
            .Where(n => Libseccomp.seccomp_syscall_resolve_name_arch(x86_64, n) == Libseccomp.__NR_SCMP_ERROR)
            .Order(StringComparer.Ordinal).ToList();
        // A typo would land here and not be in the list.
        Assert.Equal([], unknown.Where(n => !NewerThanLibseccomp.Contains(n)).ToArray());
        // And the list only holds names the profile has.
        Assert.Equal([], NewerThanLibseccomp.Where(n => !DefaultSeccompProfile.AllNames.Contains(n)).ToArray());
        // A name libseccomp knows resolves on x86_64 (a pseudo number for other architectures' calls).
        Assert.True(Libseccomp.seccomp_syscall_resolve_name_arch(x86_64, "read") >= 0);
        Assert.True(Libseccomp.seccomp_syscall_resolve_name_arch(x86_64, "chown32") != Libseccomp.__NR_SCMP_ERROR);
    }

    [Fact]
    public void DefaultsAreDockers()
    {
        var profile = DefaultSeccompProfile.For(DockerCaps, "amd64");
        Assert.Equal("SCMP_ACT_ERRNO", profile.DefaultAction);
        Assert.Equal(1u, profile.DefaultErrnoRet);
        Assert.Equal(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], profile.Architectures!);
        var allowAll = profile.Syscalls![0];
        Assert.Equal("SCMP_ACT_ALLOW", allowAll.Action);
        Assert.Null(allowAll.Args);
        Assert.True(allowAll.Names.Count > 350);
        foreach (var name in new[] { "read", "openat2", "execve", "seccomp", "landlock_create_ruleset", "rseq" })
            Assert.Contains(name, allowAll.Names);
        // Privileged calls are not in the unconditional list; io_uring neither (moby took it out in 2023: it bypasses seccomp's view).
        foreach (var name in new[] { "mount", "unshare", "setns", "bpf", "reboot", "kexec_load", "init_module", "keyctl", "add_key", "userfaultfd", "chroot", "io_uring_setup", "io_uring_enter" })
            Assert.DoesNotContain(name, allowAll.Names);
        Assert.Equal(allowAll.Names.Count, allowAll.Names.Distinct().Count());
    }

    [Fact]
    public void PersonalityAndSocketAreAllowedOnlyForListedArguments()
    {
        var profile = DefaultSeccompProfile.For(DockerCaps, "amd64");
        var personality = RulesFor(profile, "personality");
        Assert.Equal([0x0UL, 0x8, 0x20000, 0x20008, 0xffffffff], personality.Select(r => r.Args!.Single().Value));
        Assert.All(personality, r => Assert.Equal(("SCMP_ACT_ALLOW", 0u, "SCMP_CMP_EQ"), (r.Action, r.Args![0].Index, r.Args[0].Op)));
        var socket = RulesFor(profile, "socket");
        Assert.Equal([("SCMP_CMP_LT", 38UL), ("SCMP_CMP_EQ", 39UL), ("SCMP_CMP_GT", 40UL)], socket.Select(r => (r.Args!.Single().Op, r.Args![0].Value)));
    }

    [Fact]
    public void WithoutSysAdminCloneIsMaskedAndClone3GetsEnosys()
    {
        var profile = DefaultSeccompProfile.For(DockerCaps, "amd64");
        var clone = Assert.Single(RulesFor(profile, "clone"));
        var arg = Assert.Single(clone.Args!);
        Assert.Equal((0u, 0x7E020000UL, 0UL, "SCMP_CMP_MASKED_EQ"), (arg.Index, arg.Value, arg.ValueTwo, arg.Op));
        var clone3 = Assert.Single(RulesFor(profile, "clone3"));
        Assert.Equal(("SCMP_ACT_ERRNO", (uint?)38), (clone3.Action, clone3.ErrnoRet));
        Assert.Empty(RulesFor(profile, "mount"));
        Assert.Empty(RulesFor(profile, "open_by_handle_at"));
        Assert.Empty(RulesFor(profile, "kcmp"));
        // CAP_SYS_CHROOT is in Docker's set: chroot is allowed.
        Assert.Single(RulesFor(profile, "chroot"));
        // From kernel 4.8 on, ptrace is allowed to all (moby's minKernel rule).
        Assert.Single(RulesFor(profile, "ptrace"));
    }

    [Fact]
    public void CapabilityGroupsFollowTheCapabilities()
    {
        var caps = new HashSet<string>(DockerCaps) { "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH" };
        caps.Remove("CAP_SYS_CHROOT");
        var profile = DefaultSeccompProfile.For(caps, "x86_64");
        var clone = Assert.Single(RulesFor(profile, "clone"));
        Assert.Null(clone.Args);
        Assert.Equal("SCMP_ACT_ALLOW", Assert.Single(RulesFor(profile, "clone3")).Action);
        Assert.NotEmpty(RulesFor(profile, "mount"));
        Assert.NotEmpty(RulesFor(profile, "kcmp"));
        Assert.NotEmpty(RulesFor(profile, "open_by_handle_at"));
        Assert.Empty(RulesFor(profile, "chroot"));
        Assert.Empty(RulesFor(profile, "reboot"));
    }

    [Fact]
    public void ArchitectureRulesFollowTheMachine()
    {
        var amd64 = DefaultSeccompProfile.For(DockerCaps, "x86_64");
        Assert.NotEmpty(RulesFor(amd64, "arch_prctl"));
        Assert.NotEmpty(RulesFor(amd64, "modify_ldt"));
        Assert.Empty(RulesFor(amd64, "set_tls"));

        var arm64 = DefaultSeccompProfile.For(DockerCaps, "aarch64");
        Assert.Equal(["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], arm64.Architectures!);
        Assert.NotEmpty(RulesFor(arm64, "set_tls"));
        Assert.Empty(RulesFor(arm64, "arch_prctl"));

        var s390x = DefaultSeccompProfile.For(DockerCaps, "s390x");
        Assert.Equal(1u, Assert.Single(RulesFor(s390x, "clone")).Args!.Single().Index);

        Assert.Null(DefaultSeccompProfile.For(DockerCaps, "ppc64le").Architectures);
        var error = Assert.Throws<ArgumentException>(() => DefaultSeccompProfile.For(DockerCaps, "vax"));
        Assert.Contains("\"vax\"", error.Message);
    }

    [Fact]
    public void EachCallReturnsNewObjects()
    {
        var first = DefaultSeccompProfile.For(DockerCaps, "amd64");
        first.Syscalls![0].Names.Clear();
        var second = DefaultSeccompProfile.For(DockerCaps, "amd64");
        Assert.NotEmpty(second.Syscalls![0].Names);
    }
}
