using System.Runtime.InteropServices;
using System.Text;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Create;
using Moat.Runtime.Hooks;
using Moat.Runtime.Protocol;
using Moat.Runtime.Seccomp;
using static Moat.Interop.Libc;

namespace Moat.Runtime.Init;

/// <summary>
/// The container process's own settings, applied by the init stage: names, sysctls, limits before
/// start; then, after start, credentials, capabilities and no_new_privs on this very thread, and execve.
/// </summary>
public sealed unsafe class ProcessLaunch(InitMessage init, NamespacePlan plan, int seccompListenerSocket = -1)
{
    readonly Spec spec = init.Spec;
    readonly Process process = init.Spec.Process!;
    string executable = "";
    List<string> environment = [];

    /// <summary>The pty slave that becomes the controlling terminal and stdio (process.terminal).</summary>
    public FileDescriptor? Terminal { get; set; }

    /// <summary>Everything that may fail in a way create should report; runs before the runtime returns.</summary>
    public void Prepare()
    {
        // An exec joins a container that is set up already: only the process's own settings apply.
        if (!init.Exec)
            PrepareContainer();
        if (process.OomScoreAdj is { } oom)
            WriteFile("/proc/self/oom_score_adj", oom.ToString());
        foreach (var rlimit in process.Rlimits ?? [])
            SetRlimit(rlimit);
    }

    void PrepareContainer()
    {
        if (plan.NewUts || plan.Joins.Any(j => j.Type == NamespaceType.Uts))
        {
            if (!string.IsNullOrEmpty(spec.Hostname))
                SetHostname(spec.Hostname);
            if (!string.IsNullOrEmpty(spec.Domainname))
                SetDomainname(spec.Domainname);
        }
        foreach (var (key, value) in spec.Linux?.Sysctl ?? [])
        {
            var path = "/proc/sys/" + key.Replace('.', '/');
            try
            {
                WriteFile(path, value);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"linux.sysctl {key}={value}: {e.Message}", e);
            }
        }
        if (spec.Linux?.Personality is { } persona)
        {
            ulong domain = persona.Domain switch
            {
                "LINUX" => 0,
                "LINUX32" => 8,
                _ => throw new RuntimeException($"linux.personality.domain \"{persona.Domain}\" is not LINUX or LINUX32"),
            };
            Errors.Check(personality(domain), "personality", persona.Domain);
        }
    }

    /// <summary>Finds the program in the finished root, so that a missing one fails create, not start.</summary>
    public void ResolveExecutable() =>
        executable = ExecutableLookup.Resolve(process.Args![0], process.Env, IsExecutableFile, Path.Exists);

    /// <summary>
    /// process.env, with HOME from the container's /etc/passwd when it sets none (runc and crun do
    /// the same); read in the finished root, so the passwd is the container's.
    /// </summary>
    public void ResolveEnvironment() =>
        environment = HomeDirectory.WithHome(process.Env, process.User.Uid, static () => HomeDirectory.ReadPasswd());

    static void SetRlimit(PosixRlimit rlimit)
    {
        var resource = Rlimits.GetNumber(rlimit.Type);
        var limit = new RLimit { Soft = rlimit.Soft, Hard = rlimit.Hard };
        if (prlimit(0, resource, &limit, null) == 0)
            return;
        var errno = Errors.LastErrno;
        RLimit current;
        prlimit(0, resource, null, &current);
        if (errno == Errors.EPERM && rlimit.Hard > current.Hard)
            throw new RuntimeException($"process.rlimits {rlimit.Type}: raising the hard limit from {current.Hard} to {rlimit.Hard} needs CAP_SYS_RESOURCE, which this runtime does not have");
        throw new SyscallException("setrlimit", errno, rlimit.Type);
    }

    static bool IsExecutableFile(string path) =>
        access(path, X_OK) == 0 && File.Exists(path);

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
            BecomeTerminalSession(terminal);
            terminal.Dispose();
        }
        if (!init.NoNewKeyring)
            JoinSessionKeyring(init.Id);

        // Reduced by the runtime to what can be granted (it warned about the rest): the calls below succeed.
        var last = init.LastCapability;
        var caps = init.Capabilities;
        for (var cap = 0; cap <= last; cap++)
            if ((caps.Bounding & (1UL << cap)) == 0)
                Prctl(PR_CAPBSET_DROP, (ulong)cap, "drop capability from bounding set");

        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we still have
        // it, before the credentials change (runc's order). With it, load it last (below).
        // What runs after the filter must get by with the calls a container's profile allows, and
        // older profiles lack close_range: mark descriptors and read setgroups before it.
        var groups = GroupsToSet(process.User.AdditionalGids);
        CloseRangeOnExec((uint)(3 + init.PreserveFds));
        if (!process.NoNewPrivileges)
            LoadSeccomp();

        var user = process.User;
        Prctl(PR_SET_KEEPCAPS, 1, "keep capabilities");
        if (groups is not null)
            fixed (uint* p = groups)
                Errors.Check(setgroups(groups.Length, p), "setgroups");
        Errors.Check(setresgid(user.Gid, user.Gid, user.Gid), "setresgid", user.Gid.ToString());
        Errors.Check(setresuid(user.Uid, user.Uid, user.Uid), "setresuid", user.Uid.ToString());
        Prctl(PR_SET_KEEPCAPS, 0, "clear keep capabilities");
        CapSet(caps.Effective, caps.Permitted, caps.Inheritable);
        for (var cap = 0; cap <= last; cap++)
            if ((caps.Ambient & (1UL << cap)) != 0)
                Prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, "raise ambient capability", (ulong)cap);

        umask(user.Umask ?? 0x12 /* 022 */);
        var cwd = string.IsNullOrEmpty(process.Cwd) ? "/" : process.Cwd;
        Errors.Check(chdir(cwd), "chdir to cwd", cwd);
        // CVE-2024-21626: a cwd reached through a leaked descriptor would lie outside the root.
        var actual = Directory.GetCurrentDirectory();
        if (!actual.StartsWith('/'))
            throw new RuntimeException($"process.cwd {cwd} resolves outside the container's root");

        ApplyExecLabels();
        if (process.NoNewPrivileges)
        {
            Prctl(PR_SET_NO_NEW_PRIVS, 1, "no_new_privs");
            // Last before execve, on the thread that execs: the filter survives exec.
            LoadSeccomp();
        }

        var argv = ToPointerArray(process.Args!);
        var envp = ToPointerArray(environment);
        execve(executable, argv, envp);
        var errno = Errors.LastErrno;
        throw new RuntimeException($"exec {executable}: {Errors.Describe(errno)}");
    }

    /// <summary>
    /// The AppArmor profile and SELinux label take effect at the execve: both LSMs read an "exec"
    /// attribute of the calling thread. (Create refused them already where the host lacks the LSM.)
    /// </summary>
    void ApplyExecLabels()
    {
        if (process.ApparmorProfile is { Length: > 0 } profile)
        {
            var attr = File.Exists("/proc/thread-self/attr/apparmor/exec") ? "/proc/thread-self/attr/apparmor/exec" : "/proc/thread-self/attr/exec";
            try
            {
                WriteFile(attr, "exec " + profile);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"process.apparmorProfile \"{profile}\": cannot apply it ({e.Message}); is the profile loaded?", e);
            }
        }
        if (process.SelinuxLabel is { Length: > 0 } label)
        {
            try
            {
                WriteFile("/proc/thread-self/attr/exec", label);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"process.selinuxLabel \"{label}\": cannot apply it ({e.Message})", e);
            }
        }
    }

    void LoadSeccomp()
    {
        if (init.Seccomp is not { } filter)
            return;
        var listenerFd = SeccompLoader.Load(filter);
        if (listenerFd is not { } fd)
            return;
        // The notification descriptor and the container's state go to the listener (runtime-spec
        // "seccomp": the container process state), then neither stays open in the container. Its
        // pid is the host's view (runtime-spec state), which only the runtime knows: in its own pid
        // namespace this process is 1.
        var state = HookRunner.State(init.Id, "creating", init.HostPid, init.Bundle, spec.Annotations);
        var message = SeccompListener.BuildStateJson(SpecVersion.Current, init.HostPid, filter.ListenerMetadata, state);
        SeccompListener.SendNotifyFd(seccompListenerSocket, fd, message);
        close(fd);
        close(seccompListenerSocket);
    }

    /// <summary>The supplementary groups to set, or null when setgroups must not be called.</summary>
    static uint[]? GroupsToSet(List<uint>? gids)
    {
        var list = (gids ?? []).ToArray();
        // In a user namespace with setgroups denied, only an empty list is acceptable and needs no call.
        if (File.Exists("/proc/self/setgroups") && File.ReadAllText("/proc/self/setgroups").Trim() == "deny")
        {
            if (list.Length > 0)
                throw new RuntimeException("process.user.additionalGids cannot be set: setgroups is denied in this user namespace");
            return null;
        }
        return list;
    }

    /// <summary>A session keyring of the container's own, so it does not share the caller's keys.</summary>
    static void JoinSessionKeyring(string id)
    {
        const long KEYCTL_JOIN_SESSION_KEYRING = 1, KEYCTL_SETPERM = 5, KEYCTL_DESCRIBE = 6;
        var name = Encoding.UTF8.GetBytes("_ses." + id + "\0");
        long key;
        fixed (byte* p = name)
            key = syscall(SyscallNumbers.Keyctl, KEYCTL_JOIN_SESSION_KEYRING, (long)p, 0, 0, 0);
        if (key < 0)
        {
            if (Errors.LastErrno == Errors.ENOSYS)
                return;
            throw new SyscallException("join session keyring", Errors.LastErrno, id);
        }
        // Make it searchable by the container's user (runc does the same): add "user search" to its permissions.
        var buffer = new byte[256];
        long length;
        fixed (byte* b = buffer)
            length = syscall(SyscallNumbers.Keyctl, KEYCTL_DESCRIBE, key, (long)b, buffer.Length, 0);
        if (length <= 0)
            return;
        var fields = Encoding.UTF8.GetString(buffer, 0, (int)Math.Min(length, buffer.Length)).Split(';');
        if (fields.Length > 3 && uint.TryParse(fields[3], System.Globalization.NumberStyles.HexNumber, null, out var perm))
            Errors.Check(syscall(SyscallNumbers.Keyctl, KEYCTL_SETPERM, key, perm | 0x080000, 0, 0), "set session keyring permissions");
    }

    static IntPtr* ToPointerArray(List<string> items)
    {
        // Never freed: execve replaces the process, and on failure the init exits.
        var array = (IntPtr*)Marshal.AllocHGlobal(sizeof(IntPtr) * (items.Count + 1));
        for (var i = 0; i < items.Count; i++)
            array[i] = Marshal.StringToCoTaskMemUTF8(items[i]);
        array[items.Count] = IntPtr.Zero;
        return array;
    }
}
