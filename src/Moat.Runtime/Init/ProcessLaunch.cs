using System.Text;
using Moat.Interop;
using static Moat.Interop.Libc;

namespace Moat.Runtime.Init;

/// <summary>
/// Applies a <see cref="ProcessPlan"/> through <see cref="IProcessSyscalls"/>: names, sysctls and
/// limits before start; then, after start, credentials, capabilities and no_new_privs on this very
/// thread, and execve.
/// </summary>
public sealed class ProcessLaunch(ProcessPlan plan, IProcessSyscalls sys)
{
    string executable = "";
    List<string> environment = [];

    public ProcessPlan Plan => plan;

    /// <summary>The pty slave that becomes the controlling terminal and stdio (process.terminal).</summary>
    public FileDescriptor? Terminal { get; set; }

    /// <summary>Everything that may fail in a way create should report; runs before the runtime returns.</summary>
    public void Prepare()
    {
        if (plan.Hostname is { } hostname)
            sys.SetHostname(hostname);
        if (plan.Domainname is { } domainname)
            sys.SetDomainname(domainname);
        foreach (var sysctl in plan.Sysctls)
        {
            try
            {
                sys.WriteFile(sysctl.Path, sysctl.Value);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"linux.sysctl {sysctl.Key}={sysctl.Value}: {e.Message}", e);
            }
        }
        if (plan.Personality is { } personality)
            sys.SetPersonality(personality.Persona, personality.Domain);
        if (plan.OomScoreAdj is { } oom)
            sys.WriteFile("/proc/self/oom_score_adj", oom.ToString());
        foreach (var rlimit in plan.Rlimits)
            SetRlimit(rlimit);
    }

    void SetRlimit(RlimitSetting rlimit)
    {
        var errno = sys.SetRlimit(rlimit.Resource, rlimit.Soft, rlimit.Hard);
        if (errno == 0)
            return;
        if (errno == Errors.EPERM && sys.HardLimit(rlimit.Resource) is var current && rlimit.Hard > current)
            throw new RuntimeException($"process.rlimits {rlimit.Type}: raising the hard limit from {current} to {rlimit.Hard} needs CAP_SYS_RESOURCE, which this runtime does not have");
        throw new SyscallException("setrlimit", errno, rlimit.Type);
    }

    /// <summary>Finds the program in the finished root, so that a missing one fails create, not start.</summary>
    public void ResolveExecutable() =>
        executable = ExecutableLookup.Resolve(plan.Executable.Program, plan.Executable.Env, sys.IsExecutableFile, sys.Exists);

    /// <summary>
    /// process.env, with HOME from the container's /etc/passwd when it sets none (runc and crun do
    /// the same); read in the finished root, so the passwd is the container's.
    /// </summary>
    public void ResolveEnvironment() =>
        environment = HomeDirectory.WithHome(plan.Executable.Env, plan.Executable.Uid, sys.ReadPasswd);

    /// <summary>
    /// Blocks until start opens exec.fifo (reached through the state directory: no path after
    /// pivot_root), runs what must happen at start, and tells start the outcome: "0", or "1" and
    /// the error, which start reports as its own.
    /// </summary>
    public static void WaitForStart(int stateDirFd, Action atStart)
    {
        var fd = Errors.RetryOnEintr(() => openat(stateDirFd, "exec.fifo", O_WRONLY | O_CLOEXEC, 0));
        Errors.Check(fd, "open", "exec.fifo");
        try
        {
            atStart();
        }
        catch (Exception e) when (e is RuntimeException or SyscallException)
        {
            var message = Encoding.UTF8.GetBytes("1" + e.Message);
            WriteAll(fd, message.AsSpan(0, Math.Min(message.Length, 4000)), "exec.fifo");
            close(fd);
            throw;
        }
        WriteAll(fd, "0"u8, "exec.fifo");
        // Left open (a raw descriptor, which no finalizer closes): close-on-exec ends it at the
        // execve, and start waits for that end-of-file before it runs the poststart hooks, which
        // runtime-spec wants after the user's program was executed.
    }

    /// <summary>Credentials, capabilities, no_new_privs and execve, all from this thread. Returns only on failure.</summary>
    public void Exec()
    {
        if (Terminal is { } terminal)
        {
            sys.BecomeTerminalSession(terminal);
            terminal.Dispose();
        }
        if (plan.SessionKeyring is { } keyring)
            sys.JoinSessionKeyring(keyring);

        var caps = plan.Capabilities;
        for (var (cap, bits) = (0, caps.BoundingDrops); bits != 0; cap++, bits >>= 1)
            if ((bits & 1) != 0)
                sys.DropBoundingCapability(cap);

        // What runs after a filter loaded here must get by with the calls a container's profile
        // allows, and older profiles lack close_range: mark descriptors before it.
        sys.MarkCloseOnExecFrom(plan.CloseOnExecFrom);
        if (plan.Seccomp == SeccompTiming.BeforeCredentials)
            sys.LoadSeccomp();

        var credentials = plan.Credentials;
        sys.SetKeepCapabilities(true);
        if (credentials.Groups is { } groups)
            sys.SetGroups(groups);
        sys.SetGid(credentials.Gid);
        sys.SetUid(credentials.Uid);
        sys.SetKeepCapabilities(false);
        sys.SetCapabilities(caps.Sets.Effective, caps.Sets.Permitted, caps.Sets.Inheritable);
        for (var (cap, bits) = (0, caps.AmbientRaises); bits != 0; cap++, bits >>= 1)
            if ((bits & 1) != 0)
                sys.RaiseAmbientCapability(cap);

        sys.SetUmask(plan.Umask);
        sys.ChangeDirectory(plan.Cwd);
        // CVE-2024-21626: a cwd reached through a leaked descriptor would lie outside the root.
        if (!sys.CurrentDirectory().StartsWith('/'))
            throw new RuntimeException($"process.cwd {plan.Cwd} resolves outside the container's root");

        ApplyExecLabels();
        if (plan.NoNewPrivileges)
            sys.SetNoNewPrivileges();
        // The sandbox tier's Landlock ruleset: after no_new_privs (which it needs), before the
        // seccomp filter (whose allow-list lacks the landlock calls).
        sys.ApplyLandlock();
        // Last before execve, on the thread that execs: the filter survives exec.
        if (plan.Seccomp == SeccompTiming.Last)
            sys.LoadSeccomp();

        var errno = sys.Execute(executable, plan.Executable.Args, environment);
        throw new RuntimeException($"exec {executable}: {Errors.Describe(errno)}");
    }

    /// <summary>
    /// The AppArmor profile and SELinux label take effect at the execve. (Create refused them
    /// already where the host lacks the LSM.)
    /// </summary>
    void ApplyExecLabels()
    {
        if (plan.ApparmorProfile is { } profile)
        {
            try
            {
                sys.SetApparmorExecProfile(profile);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"process.apparmorProfile \"{profile}\": cannot apply it ({e.Message}); is the profile loaded?", e);
            }
        }
        if (plan.SelinuxLabel is { } label)
        {
            try
            {
                sys.SetSelinuxExecLabel(label);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"process.selinuxLabel \"{label}\": cannot apply it ({e.Message})", e);
            }
        }
    }
}
