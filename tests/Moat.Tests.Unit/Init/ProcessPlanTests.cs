using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Protocol;
using Moat.Runtime;
using Moat.Runtime.Create;
using Moat.Runtime.Init;
using Moat.Runtime.Seccomp;
using Xunit;

namespace Moat.Tests.Unit.Init;

/// <summary>Process plans from configs, and the calls that apply them, in order, against a recording fake.</summary>
public class ProcessPlanTests
{
    const int Kill = 5, NetBindService = 10, NetRaw = 13, AuditWrite = 29;

    static InitMessage Message(Spec spec, bool exec = false) => new()
    {
        Id = "c1",
        Spec = spec,
        Exec = exec,
        LastCapability = 40,
        Capabilities = HostSupportFree(spec.Process!.Capabilities),
    };

    /// <summary>The sets as the runtime reduces them, on a host whose runtime may grant everything.</summary>
    static CapabilitySets HostSupportFree(LinuxCapabilities? caps) => CapabilitySets.From(caps, (1UL << 41) - 1, 40);

    static ProcessPlan Plan(Spec spec, bool exec = false, bool setgroupsDenied = false) =>
        ProcessPlanner.Plan(Message(spec, exec), NamespacePlan.From(spec.Linux), setgroupsDenied);

    static Spec AUserWithGroupsAndAmbientCapabilities()
    {
        var spec = DefaultSpec.Create(rootless: false);
        var process = spec.Process!;
        process.User = new User { Uid = 1000, Gid = 100, AdditionalGids = [10, 20], Umask = 0x3f /* 077 */ };
        process.Cwd = "/home/u";
        process.Args = ["app", "--serve"];
        process.Env = ["PATH=/opt/bin:/bin"];
        process.Capabilities = new LinuxCapabilities
        {
            Bounding = ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
            Effective = ["CAP_NET_BIND_SERVICE"],
            Permitted = ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
            Inheritable = ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
            Ambient = ["CAP_NET_BIND_SERVICE"],
        };
        process.Rlimits =
        [
            new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 1024, Hard = 4096 },
            new PosixRlimit { Type = "RLIMIT_CORE", Soft = 0, Hard = 0 },
        ];
        process.OomScoreAdj = 100;
        process.NoNewPrivileges = true;
        spec.Domainname = "example.org";
        spec.Linux!.Sysctl = new() { ["net.ipv4.ip_forward"] = "1" };
        return spec;
    }

    [Fact]
    public void TheDefaultConfig()
    {
        var plan = Plan(DefaultSpec.Create(rootless: false));

        Assert.Equal("moat", plan.Hostname);
        Assert.Null(plan.Domainname);
        Assert.Empty(plan.Sysctls);
        Assert.Null(plan.Personality);
        Assert.Equal([new RlimitSetting("RLIMIT_NOFILE", 7, 1024, 1024)], plan.Rlimits);
        Assert.Equal("sh", plan.Executable.Program);
        Assert.Equal("_ses.c1", plan.SessionKeyring);
        Assert.Equal((0u, 0u), (plan.Credentials.Uid, plan.Credentials.Gid));
        Assert.Empty(plan.Credentials.Groups!);
        var bounding = (1UL << Kill) | (1UL << NetBindService) | (1UL << AuditWrite);
        Assert.Equal(bounding, plan.Capabilities.Sets.Bounding);
        Assert.Equal(((1UL << 41) - 1) & ~bounding, plan.Capabilities.BoundingDrops);
        Assert.Equal(0UL, plan.Capabilities.AmbientRaises);
        Assert.Equal(3u, plan.CloseOnExecFrom);
        Assert.Equal(SeccompTiming.None, plan.Seccomp);
        Assert.Equal(0x12u, plan.Umask);
        Assert.Equal("/", plan.Cwd);
        Assert.True(plan.NoNewPrivileges);
    }

    [Fact]
    public void AUserWithAdditionalGroupsAmbientCapabilitiesAndLimits()
    {
        var plan = Plan(AUserWithGroupsAndAmbientCapabilities());

        Assert.Equal(1000u, plan.Credentials.Uid);
        Assert.Equal(100u, plan.Credentials.Gid);
        Assert.Equal([10u, 20u], plan.Credentials.Groups!);
        Assert.Equal(1UL << NetBindService, plan.Capabilities.AmbientRaises);
        Assert.Equal([new RlimitSetting("RLIMIT_NOFILE", 7, 1024, 4096), new RlimitSetting("RLIMIT_CORE", 4, 0, 0)], plan.Rlimits);
        Assert.Equal([new SysctlSetting("net.ipv4.ip_forward", "1", "/proc/sys/net/ipv4/ip_forward")], plan.Sysctls);
        Assert.Equal("example.org", plan.Domainname);
        Assert.Equal(100, plan.OomScoreAdj);
        Assert.Equal(0x3fu, plan.Umask);
        Assert.Equal("/home/u", plan.Cwd);
    }

    [Fact]
    public void SetgroupsDeniedMeansNoSetgroupsCallAndRefusesAdditionalGroups()
    {
        var plain = DefaultSpec.Create(rootless: false);

        Assert.Null(Plan(plain, setgroupsDenied: true).Credentials.Groups);
        var e = Assert.Throws<RuntimeException>(() => Plan(AUserWithGroupsAndAmbientCapabilities(), setgroupsDenied: true));
        Assert.Equal("process.user.additionalGids cannot be set: setgroups is denied in this user namespace", e.Message);
    }

    [Fact]
    public void AnExecSetsOnlyTheProcesssOwnSettings()
    {
        var plan = Plan(AUserWithGroupsAndAmbientCapabilities(), exec: true);

        Assert.Null(plan.Hostname);
        Assert.Null(plan.Domainname);
        Assert.Empty(plan.Sysctls);
        Assert.Equal(100, plan.OomScoreAdj);
        Assert.Equal(2, plan.Rlimits.Count);
    }

    [Fact]
    public void TheHostnameNeedsAUtsNamespaceNewOrJoined()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Linux!.Namespaces!.RemoveAll(n => n.Type == NamespaceType.Uts);
        Assert.Null(Plan(spec).Hostname);

        spec.Linux.Namespaces.Add(new LinuxNamespace { Type = NamespaceType.Uts, Path = "/proc/1/ns/uts" });
        Assert.Equal("moat", Plan(spec).Hostname);
    }

    [Fact]
    public void SeccompIsLoadedBeforeTheCredentialsChangeUnlessNoNewPrivsLetsItComeLast()
    {
        var spec = DefaultSpec.Create(rootless: false);
        var init = Message(spec);
        init.Seccomp = new CompiledSeccompFilter();

        Assert.Equal(SeccompTiming.Last, ProcessPlanner.Plan(init, NamespacePlan.From(spec.Linux), false).Seccomp);
        spec.Process!.NoNewPrivileges = false;
        Assert.Equal(SeccompTiming.BeforeCredentials, ProcessPlanner.Plan(init, NamespacePlan.From(spec.Linux), false).Seccomp);
    }

    [Fact]
    public void NoNewKeyringAndPreservedDescriptors()
    {
        var spec = DefaultSpec.Create(rootless: false);
        var init = Message(spec);
        init.NoNewKeyring = true;
        init.PreserveFds = 2;

        var plan = ProcessPlanner.Plan(init, NamespacePlan.From(spec.Linux), false);

        Assert.Null(plan.SessionKeyring);
        Assert.Equal(5u, plan.CloseOnExecFrom);
    }

    [Fact]
    public void APersonalityDomainIsANumber()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Linux!.Personality = new LinuxPersonality { Domain = "LINUX32" };
        Assert.Equal(new PersonalitySetting("LINUX32", 8), Plan(spec).Personality);

        spec.Linux.Personality.Domain = "BSD";
        Assert.Equal("linux.personality.domain \"BSD\" is not LINUX or LINUX32", Assert.Throws<RuntimeException>(() => Plan(spec)).Message);
    }

    [Fact]
    public void PrepareAppliesNamesSysctlsAndLimitsInOrder()
    {
        var spec = AUserWithGroupsAndAmbientCapabilities();
        spec.Linux!.Personality = new LinuxPersonality { Domain = "LINUX" };
        var sys = new FakeProcessSyscalls();

        new ProcessLaunch(Plan(spec), sys).Prepare();

        Assert.Equal(
        [
            "sethostname moat",
            "setdomainname example.org",
            "write /proc/sys/net/ipv4/ip_forward 1",
            "personality 0",
            "write /proc/self/oom_score_adj 100",
            "prlimit 7 1024 4096",
            "prlimit 4 0 0",
        ], sys.Calls);
    }

    [Fact]
    public void ASysctlThatCannotBeWrittenIsNamed()
    {
        var spec = AUserWithGroupsAndAmbientCapabilities();
        var sys = new FakeProcessSyscalls { FailWrite = path => path.StartsWith("/proc/sys/", StringComparison.Ordinal) ? new SyscallException("open", Errors.EACCES, path) : null };

        var e = Assert.Throws<RuntimeException>(() => new ProcessLaunch(Plan(spec), sys).Prepare());

        Assert.StartsWith("linux.sysctl net.ipv4.ip_forward=1: open /proc/sys/net/ipv4/ip_forward: ", e.Message);
    }

    [Fact]
    public void RaisingAHardLimitWithoutTheCapabilityIsExplained()
    {
        var sys = new FakeProcessSyscalls { RlimitErrno = Errors.EPERM, CurrentHardLimit = 2048 };

        var e = Assert.Throws<RuntimeException>(() => new ProcessLaunch(Plan(AUserWithGroupsAndAmbientCapabilities()), sys).Prepare());

        Assert.Equal("process.rlimits RLIMIT_NOFILE: raising the hard limit from 2048 to 4096 needs CAP_SYS_RESOURCE, which this runtime does not have", e.Message);
        sys.RlimitErrno = Errors.EINVAL;
        var other = Assert.Throws<SyscallException>(() => new ProcessLaunch(Plan(AUserWithGroupsAndAmbientCapabilities()), sys).Prepare());
        Assert.Equal("setrlimit", other.Operation);
    }

    [Fact]
    public void TheExecutableIsFoundInPathAndHomeComesFromPasswd()
    {
        var sys = new FakeProcessSyscalls { Passwd = "root:x:0:0::/root:/bin/sh\nu:x:1000:100::/home/u:/bin/sh\n" };
        sys.Files["/bin/app"] = true;
        var launch = new ProcessLaunch(Plan(AUserWithGroupsAndAmbientCapabilities()), sys);

        launch.ResolveExecutable();
        launch.ResolveEnvironment();
        Assert.Throws<RuntimeException>(launch.Exec);

        Assert.Equal("execve /bin/app [app --serve] [PATH=/opt/bin:/bin HOME=/home/u]", sys.Calls[^1]);
    }

    [Fact]
    public void AMissingExecutableFailsBeforeStart()
    {
        var launch = new ProcessLaunch(Plan(AUserWithGroupsAndAmbientCapabilities()), new FakeProcessSyscalls());

        Assert.Equal("exec: \"app\": executable file not found in $PATH", Assert.Throws<RuntimeException>(launch.ResolveExecutable).Message);
    }

    /// <summary>The order start applies the plan in, on the thread that execs: every step of it.</summary>
    [Fact]
    public void ExecChangesCredentialsAndCapabilitiesInTheKernelsOrder()
    {
        var spec = AUserWithGroupsAndAmbientCapabilities();
        var init = Message(spec);
        init.Seccomp = new CompiledSeccompFilter();
        init.PreserveFds = 1;
        var sys = new FakeProcessSyscalls();
        sys.Files["/opt/bin/app"] = true;
        var launch = new ProcessLaunch(ProcessPlanner.Plan(init, NamespacePlan.From(spec.Linux), false), sys)
        {
            Terminal = new FileDescriptor(9, ownsHandle: false),
        };
        launch.ResolveExecutable();
        launch.ResolveEnvironment();

        var e = Assert.Throws<RuntimeException>(launch.Exec);

        Assert.StartsWith("exec /opt/bin/app: ", e.Message);
        var dropped = Enumerable.Range(0, 41).Where(c => c is not (Kill or NetBindService or NetRaw)).Select(c => $"drop bounding {c}");
        string[] expected =
        [
            "read /etc/passwd",
            "terminal 9",
            "keyring _ses.c1",
            .. dropped,
            "cloexec from 4",
            "keepcaps 1",
            "setgroups [10,20]",
            "setresgid 100",
            "setresuid 1000",
            "keepcaps 0",
            $"capset e=0x{1UL << NetBindService:x} p=0x{(1UL << NetBindService) | (1UL << NetRaw):x} i=0x{(1UL << NetBindService) | (1UL << NetRaw):x}",
            "ambient 10",
            "umask 77",
            "chdir /home/u",
            "no_new_privs",
            "seccomp",
            "execve /opt/bin/app [app --serve] [PATH=/opt/bin:/bin HOME=/]",
        ];
        Assert.Equal(expected, sys.Calls);
    }

    [Fact]
    public void WithoutNoNewPrivsSeccompComesBeforeTheCredentialsAndSetgroupsDeniedSkipsTheCall()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Process!.NoNewPrivileges = false;
        var init = Message(spec);
        init.Seccomp = new CompiledSeccompFilter();
        init.NoNewKeyring = true;
        var sys = new FakeProcessSyscalls();
        var launch = new ProcessLaunch(ProcessPlanner.Plan(init, NamespacePlan.From(spec.Linux), setgroupsDenied: true), sys);

        Assert.Throws<RuntimeException>(launch.Exec);

        var calls = sys.Calls.Where(c => !c.StartsWith("drop bounding", StringComparison.Ordinal)).ToList();
        Assert.Equal(["cloexec from 3", "seccomp", "keepcaps 1", "setresgid 0", "setresuid 0", "keepcaps 0"], calls[..6]);
        Assert.DoesNotContain("no_new_privs", calls);
        Assert.Single(calls, "seccomp");
    }

    [Fact]
    public void ACwdOutsideTheRootIsRefusedBeforeExec()
    {
        var sys = new FakeProcessSyscalls { WorkingDirectory = "(unreachable)/tmp" };
        var launch = new ProcessLaunch(Plan(DefaultSpec.Create(rootless: false)), sys);

        var e = Assert.Throws<RuntimeException>(launch.Exec);

        Assert.Equal("process.cwd / resolves outside the container's root", e.Message);
        Assert.DoesNotContain(sys.Calls, c => c.StartsWith("execve", StringComparison.Ordinal) || c == "no_new_privs");
    }

    [Fact]
    public void ExecLabelsComeJustBeforeNoNewPrivs()
    {
        var spec = DefaultSpec.Create(rootless: false);
        spec.Process!.ApparmorProfile = "moat-default";
        spec.Process.SelinuxLabel = "system_u:system_r:container_t:s0";
        var sys = new FakeProcessSyscalls();

        Assert.Throws<RuntimeException>(new ProcessLaunch(Plan(spec), sys).Exec);

        Assert.Equal(["chdir /", "apparmor moat-default", "selinux system_u:system_r:container_t:s0", "no_new_privs"], sys.Calls[^5..^1]);
    }
}
