using System.Text.Json;
using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>seccomp filters in real containers: the default profile, errno values, argument rules, kill, trap, notify.</summary>
public sealed class SeccompTests
{
    /// <summary>The default profile exactly as `moat spec` writes it.</summary>
    static LinuxSeccomp DefaultProfile()
    {
        var dir = Directory.CreateTempSubdirectory("moat-it-spec-").FullName;
        try
        {
            MoatCli.Exec(MoatCli.Binary, ["spec", "--bundle", dir]).Ok();
            return Moat.Oci.Json.SpecJson.ReadSpec(File.ReadAllBytes(Path.Combine(dir, "config.json"))).Linux!.Seccomp!;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    static LinuxSeccomp AllowAllBut(params LinuxSyscall[] rules) => new()
    {
        DefaultAction = "SCMP_ACT_ALLOW",
        Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        Syscalls = [.. rules],
    };

    [Fact]
    public void DefaultProfileIsLoadedAndDeniesWhatDockerDenies()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Linux!.Seccomp = DefaultProfile();
        var output = bundle.Sh("grep '^Seccomp:' /proc/self/status; unshare -U true 2>&1 || echo unshare-denied; " +
                               "unshare -m true 2>&1 || echo unshare-m-denied; echo allowed-still-works");
        Assert.Contains("Seccomp:\t2", output);
        Assert.Contains("Operation not permitted", output);
        Assert.Contains("unshare-denied", output);
        Assert.Contains("unshare-m-denied", output);
        Assert.EndsWith("allowed-still-works\n", output);

        // Without the filter the same user namespace is allowed: the denial above is seccomp's.
        bundle.Spec.Linux.Seccomp = null;
        Assert.Contains("Seccomp:\t0", bundle.Sh("grep '^Seccomp:' /proc/self/status; unshare -U true && echo unshare-allowed"));
    }

    [Fact]
    public void ErrnoActionReturnsTheConfiguredErrno()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Root!.Readonly = false;
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 95 });
        Assert.Contains("not supported", bundle.Sh("mkdir /tmp/refused 2>&1 || true"), StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(Path.Combine(bundle.Rootfs, "tmp", "refused")));
    }

    [Fact]
    public void ArgumentConditionsSelectTheCall()
    {
        using var bundle = new TestBundle();
        // kill(pid, SIGUSR1) is refused, kill(pid, 0) is not.
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall
        {
            Names = ["kill"],
            Action = "SCMP_ACT_ERRNO",
            ErrnoRet = 1,
            Args = [new LinuxSeccompArg { Index = 1, Value = 10, Op = "SCMP_CMP_EQ" }],
        });
        var output = bundle.Sh("kill -0 $$ && echo probe-ok; kill -USR1 $$ 2>&1 || echo usr1-refused");
        Assert.Contains("probe-ok", output);
        Assert.Contains("usr1-refused", output);
    }

    [Fact]
    public void MaskedEqualityMatchesFlagBits()
    {
        using var bundle = new TestBundle();
        // openat with O_CREAT (0x40) in its flags is refused; plain opens pass.
        bundle.Spec.Root!.Readonly = false;
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall
        {
            Names = ["openat", "open"],
            Action = "SCMP_ACT_ERRNO",
            ErrnoRet = 13,
            Args = [new LinuxSeccompArg { Index = 2, Value = 0x40, ValueTwo = 0x40, Op = "SCMP_CMP_MASKED_EQ" }],
        });
        // (Redirections to files open with O_CREAT, so the read goes through a pipe.)
        var output = bundle.Sh("cat /etc/passwd | grep -q root && echo read-ok; (: > /tmp/new) 2>&1 || echo create-refused");
        Assert.Contains("read-ok", output);
        Assert.Contains("create-refused", output);
    }

    [Theory]
    [InlineData("SCMP_ACT_KILL_PROCESS")]
    [InlineData("SCMP_ACT_KILL")]
    [InlineData("SCMP_ACT_TRAP")]
    public void KillAndTrapEndTheProcessWithSigsys(string action)
    {
        using var bundle = new TestBundle("sync");
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall { Names = ["sync"], Action = action });
        // SIGSYS is signal 31: killed (or trapped without a handler) gives 128 + 31.
        Assert.Equal(128 + 31, bundle.Run().ExitCode);
    }

    [Fact]
    public void NotifyHandsTheDescriptorAndStateToTheListener()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Root!.Readonly = false;
        var socketPath = Path.Combine(bundle.Directory, "listener.sock");
        using var listener = new SeccompListenerServer(socketPath);
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_NOTIFY" });
        bundle.Spec.Linux.Seccomp.ListenerPath = socketPath;
        bundle.Spec.Linux.Seccomp.ListenerMetadata = "moat-test-metadata";
        // The listener answers "done" without running mkdir: it reports success, yet nothing exists.
        var output = bundle.Sh("mkdir /tmp/notified && echo mkdir-answered; ls -d /tmp/notified 2>/dev/null || echo not-created");
        Assert.Null(listener.Failure);
        Assert.Equal("mkdir-answered\nnot-created\n", output);
        Assert.True(listener.Answered >= 1);

        var state = JsonDocument.Parse(listener.StateJson!).RootElement;
        Assert.Equal(["seccompFd"], state.GetProperty("fds").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal("moat-test-metadata", state.GetProperty("metadata").GetString());
        Assert.True(state.GetProperty("pid").GetInt32() > 0);
        Assert.Equal(bundle.Directory, state.GetProperty("state").GetProperty("bundle").GetString());
    }

    /// <summary>
    /// The listener's "pid" and its state's "pid" are the container process's pid on the host, as
    /// `state` reports it (runtime-spec state; runc sends the same), not 1, its pid in its own pid namespace.
    /// </summary>
    [Fact]
    public void ListenerGetsTheHostPidOfTheContainerProcess()
    {
        using var bundle = new TestBundle("sleep", "1000");
        var socketPath = Path.Combine(bundle.Directory, "listener.sock");
        using var listener = new SeccompListenerServer(socketPath);
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_NOTIFY" });
        bundle.Spec.Linux.Seccomp.ListenerPath = socketPath;
        var id = bundle.NewId("listenerpid");
        bundle.Create(id).Ok();
        var pid = TestBundle.State(id).GetProperty("pid").GetInt32();
        MoatCli.Run("start", id).Ok();
        Wait.Until(() => listener.StateJson is not null || listener.Failure is not null, "the listener to get the container's state");
        Assert.Null(listener.Failure);
        var state = JsonDocument.Parse(listener.StateJson!).RootElement;
        Assert.NotEqual(1, pid);
        Assert.Equal(pid, state.GetProperty("pid").GetInt32());
        Assert.Equal(pid, state.GetProperty("state").GetProperty("pid").GetInt32());
        Assert.Equal(id, state.GetProperty("state").GetProperty("id").GetString());
    }

    /// <summary>
    /// An exec'd process loads the container's filter and hands its own descriptor to the listener (runc
    /// does too), over a socket the runtime connected: the path is out of the exec'd process's view.
    /// </summary>
    [Fact]
    public void ExecHandsItsOwnDescriptorToTheListener()
    {
        using var bundle = new TestBundle("sleep", "1000");
        bundle.Spec.Root!.Readonly = false;
        var socketPath = Path.Combine(bundle.Directory, "listener.sock");
        using var listener = new SeccompListenerServer(socketPath);
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = "SCMP_ACT_NOTIFY" });
        bundle.Spec.Linux.Seccomp.ListenerPath = socketPath;
        var id = bundle.NewId("execlistener");
        bundle.Create(id).Ok();
        MoatCli.Run("start", id).Ok();
        var exec = MoatCli.Run("exec", id, "sh", "-c", "mkdir /tmp/by-exec && echo mkdir-answered; ls -d /tmp/by-exec 2>/dev/null || echo not-created").Ok();
        Assert.Null(listener.Failure);
        Assert.Equal("mkdir-answered\nnot-created\n", exec.Stdout);
        Assert.Equal(2, listener.Connections);
    }

    /// <summary>
    /// Without no_new_privs the filter is loaded before the credentials change, so the init's last
    /// steps run under it. Older profiles (runtime-tools' default, Docker's before 2021) deny
    /// close_range and clone3; the container must still start.
    /// </summary>
    [Fact]
    public void FilterWithoutNoNewPrivsThatDeniesNewerCallsStillStarts()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Process!.NoNewPrivileges = false;
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall { Names = ["close_range", "clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1 });
        Assert.Equal("Seccomp:\t2\nstarted\n", bundle.Sh("grep '^Seccomp:' /proc/self/status; echo started"));
    }

    /// <summary>A failure after the filter is loaded is reported on stderr with status 127, not lost in a crash.</summary>
    [Fact]
    public void ExecDeniedByTheFilterIsReported()
    {
        using var bundle = new TestBundle("true");
        bundle.Spec.Process!.NoNewPrivileges = false;
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall { Names = ["execve", "execveat", "clone3"], Action = "SCMP_ACT_ERRNO", ErrnoRet = 1 });
        var result = bundle.Run();
        Assert.Equal(127, result.ExitCode);
        Assert.Contains("Operation not permitted", result.Stderr);
    }

    [Fact]
    public void InvalidProfileIsRefusedBeforeAnythingExists()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Linux!.Seccomp = AllowAllBut(new LinuxSyscall { Names = ["sync"], Action = "SCMP_ACT_BOGUS" });
        var id = bundle.NewId();
        var result = bundle.Create(id);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("SCMP_ACT_BOGUS", result.Stderr);
        Assert.False(Directory.Exists(Path.Combine(MoatCli.StateRoot, id)));
    }
}
