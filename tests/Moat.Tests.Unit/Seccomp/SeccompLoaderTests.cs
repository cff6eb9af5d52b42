using Moat.Interop;
using Moat.Oci;
using Moat.Oci.Profiles;
using Moat.Runtime;
using Moat.Runtime.Seccomp;
using Xunit;
using static Moat.Tests.Unit.Seccomp.SeccompKit;

namespace Moat.Tests.Unit.Seccomp;

/// <summary>
/// Loading for real, without root and without touching the test host: a seccomp filter (and
/// no_new_privs) belongs to the thread that sets it, so each test loads on a thread of its own,
/// which ends right after. No TSYNC here, which would spread the filter to every thread.
/// </summary>
public sealed class SeccompLoaderTests
{
    const long SysGetppid = 110, SysUnshare = 272, SysKeyctl = 250, SysIoUringSetup = 425;

    /// <summary>Runs <paramref name="body"/> on a fresh thread with no_new_privs set, and returns what it returned.</summary>
    static T OnOwnThread<T>(Func<T> body)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Libc.Prctl(Libc.PR_SET_NO_NEW_PRIVS, 1, "no_new_privs");
                result = body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw new Xunit.Sdk.XunitException($"on the filtered thread: {failure}");
        return result;
    }

    static (long Result, int Errno) Call(long nr, long a1 = 0)
    {
        var result = Libc.syscall(nr, a1, 0, 0, 0, 0);
        return (result, result < 0 ? Errors.LastErrno : 0);
    }

    [Fact]
    public void LoadedRuleAppliesToTheLoadingThreadOnly()
    {
        var rule = Rule("SCMP_ACT_ERRNO", "getppid");
        rule.ErrnoRet = 99;
        var filter = SeccompCompiler.Compile(Profile("SCMP_ACT_ALLOW", rule));

        var (inside, listener) = OnOwnThread(() =>
        {
            var fd = SeccompLoader.Load(filter);
            return (Call(SysGetppid), fd);
        });

        Assert.Null(listener);
        Assert.Equal((-1L, 99), inside);
        Assert.True(Call(SysGetppid).Result > 0, "the test host's own threads are not filtered");
    }

    [Fact]
    public void KernelAcceptsTheDefaultProfileWithItsEnosysStub()
    {
        var filter = SeccompCompiler.Compile(DefaultSeccompProfile.For(new HashSet<string> { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" }, "amd64"));
        Assert.True(filter.EnosysStubLength > 0);

        var results = OnOwnThread(() =>
        {
            SeccompLoader.Load(filter);
            return new[] { Call(SysGetppid), Call(SysUnshare, 0), Call(SysKeyctl, 0), Call(1000), Call(SysIoUringSetup, 1) };
        });

        Assert.True(results[0].Result > 0, "getppid is allowed");
        Assert.Equal((-1L, Errors.EPERM), results[1]);
        Assert.Equal((-1L, Errors.EPERM), results[2]);
        Assert.Equal((-1L, Errors.ENOSYS), results[3]);
        // io_uring is refused by the profile itself (not ENOSYS, which would mean "not in this kernel").
        Assert.Equal((-1L, Errors.EPERM), results[4]);
    }

    [Fact]
    public void NotifyRuleReturnsAListenerDescriptor()
    {
        var profile = Profile("SCMP_ACT_ALLOW", Rule("SCMP_ACT_NOTIFY", "mknodat"));
        profile.ListenerPath = "/run/agent.sock";
        profile.Flags = ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"];
        var filter = SeccompCompiler.Compile(profile);

        var listener = OnOwnThread(() => SeccompLoader.Load(filter));

        Assert.NotNull(listener);
        Assert.True(listener > 2);
        // It is a seccomp notify descriptor ("anon_inode:seccomp notify"); never call mknodat here.
        Assert.Equal("anon_inode:seccomp notify", new FileInfo($"/proc/self/fd/{listener}").LinkTarget);
        Libc.close(listener.Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(12)]
    public void ProgramMustBeWholeInstructions(int length)
    {
        var error = Assert.Throws<RuntimeException>(() => SeccompLoader.Load(new byte[length], 0));

        Assert.Contains("multiple of 8 bytes", error.Message);
    }

    [Fact]
    public void TooLongProgramIsRefusedBeforeTheKernel()
    {
        var error = Assert.Throws<RuntimeException>(() => SeccompLoader.Load(new byte[8 * (Libc.BPF_MAXINSNS + 1)], 0));

        Assert.Contains("4097 instructions", error.Message);
    }

    [Fact]
    public void KernelRejectsAnInvalidProgram()
    {
        // A lone load with no return: the kernel's checker refuses it (EINVAL), nothing is installed.
        var program = BpfInstruction.Encode([Bpf.Stmt(Bpf.LD | Bpf.W | Bpf.ABS, 0)]);

        var error = OnOwnThread(() => Record.Exception(() => SeccompLoader.Load(program, 0)));

        Assert.IsType<RuntimeException>(error);
        Assert.Contains("the kernel refused the filter", error!.Message);
    }
}
