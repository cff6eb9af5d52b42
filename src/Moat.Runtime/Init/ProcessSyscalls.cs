using System.Runtime.InteropServices;
using System.Text;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Protocol;
using Moat.Runtime.Hooks;
using Moat.Runtime.Seccomp;
using static Moat.Interop.Libc;

namespace Moat.Runtime.Init;

/// <summary>The real system calls behind <see cref="ProcessLaunch"/>, over Moat.Interop.</summary>
public sealed unsafe class ProcessSyscalls(InitMessage init, int seccompListenerSocket = -1) : IProcessSyscalls
{
    /// <summary>Whether this user namespace denies setgroups (/proc/self/setgroups says "deny").</summary>
    public static bool SetgroupsDenied() =>
        File.Exists("/proc/self/setgroups") && File.ReadAllText("/proc/self/setgroups").Trim() == "deny";

    public void SetHostname(string name) => Libc.SetHostname(name);

    public void SetDomainname(string name) => Libc.SetDomainname(name);

    public void WriteFile(string path, string content) => Libc.WriteFile(path, content);

    public void SetPersonality(ulong persona, string what) => Errors.Check(personality(persona), "personality", what);

    public int SetRlimit(int resource, ulong soft, ulong hard)
    {
        var limit = new RLimit { Soft = soft, Hard = hard };
        return prlimit(0, resource, &limit, null) == 0 ? 0 : Errors.LastErrno;
    }

    public ulong HardLimit(int resource)
    {
        RLimit current;
        prlimit(0, resource, null, &current);
        return current.Hard;
    }

    public bool IsExecutableFile(string path) => access(path, X_OK) == 0 && File.Exists(path);

    public bool Exists(string path) => Path.Exists(path);

    public byte[]? ReadPasswd() => HomeDirectory.ReadPasswd();

    public void BecomeTerminalSession(FileDescriptor terminal) => Libc.BecomeTerminalSession(terminal);

    /// <summary>A session keyring of the container's own, so it does not share the caller's keys.</summary>
    public void JoinSessionKeyring(string keyringName)
    {
        const long KEYCTL_JOIN_SESSION_KEYRING = 1, KEYCTL_SETPERM = 5, KEYCTL_DESCRIBE = 6;
        var name = Encoding.UTF8.GetBytes(keyringName + "\0");
        long key;
        fixed (byte* p = name)
            key = syscall(SyscallNumbers.Keyctl, KEYCTL_JOIN_SESSION_KEYRING, (long)p, 0, 0, 0);
        if (key < 0)
        {
            if (Errors.LastErrno == Errors.ENOSYS)
                return;
            throw new SyscallException("join session keyring", Errors.LastErrno, keyringName);
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

    public void DropBoundingCapability(int capability) =>
        Prctl(PR_CAPBSET_DROP, (ulong)capability, "drop capability from bounding set");

    public void MarkCloseOnExecFrom(uint first) => CloseRangeOnExec(first);

    public void LoadSeccomp()
    {
        if (init.Seccomp is not { } filter)
            return;
        // The notification descriptor and the container's state go to the listener (runtime-spec
        // "seccomp": the container process state), then neither stays open in the container. Its
        // pid is the host's view (runtime-spec state), which only the runtime knows: in its own pid
        // namespace this process is 1. The message is made before the filter is loaded: from then
        // until the listener has the descriptor, a notified call of this thread waits for ever, and
        // an allocation can make such calls (mmap, or a collection's futex and signals; a recording
        // notifies them all). Between loading and handing over only sendmsg, write and close run.
        byte[]? message = null;
        if (filter.HasListener)
        {
            var state = HookRunner.State(init.Id, "creating", init.HostPid, init.Bundle, init.Spec.Annotations);
            message = SeccompListener.BuildStateJson(SpecVersion.Current, init.HostPid, filter.ListenerMetadata, state);
        }
        var listenerFd = SeccompLoader.Load(filter);
        if (listenerFd is not { } fd || message is null)
            return;
        // A tier's supervisor (InitAdditions) may notify sendmsg itself, so this process cannot send
        // the descriptor with SCM_RIGHTS: it names it, and the supervisor takes it (pidfd_getfd).
        if (init.LendSeccompFd)
            SeccompListener.LendNotifyFd(seccompListenerSocket, fd, message);
        else
            SeccompListener.SendNotifyFd(seccompListenerSocket, fd, message);
        close(fd);
        close(seccompListenerSocket);
    }

    public void SetKeepCapabilities(bool keep) =>
        Prctl(PR_SET_KEEPCAPS, keep ? 1UL : 0, keep ? "keep capabilities" : "clear keep capabilities");

    public void SetGroups(uint[] groups)
    {
        fixed (uint* p = groups)
            Errors.Check(setgroups(groups.Length, p), "setgroups");
    }

    public void SetGid(uint gid) => Errors.Check(setresgid(gid, gid, gid), "setresgid", gid.ToString());

    public void SetUid(uint uid) => Errors.Check(setresuid(uid, uid, uid), "setresuid", uid.ToString());

    public void SetCapabilities(ulong effective, ulong permitted, ulong inheritable) => CapSet(effective, permitted, inheritable);

    public void RaiseAmbientCapability(int capability) =>
        Prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, "raise ambient capability", (ulong)capability);

    public void SetUmask(uint mask) => umask(mask);

    public void ChangeDirectory(string path) => Errors.Check(chdir(path), "chdir to cwd", path);

    public string CurrentDirectory() => Directory.GetCurrentDirectory();

    /// <summary>Both LSMs read an "exec" attribute of the calling thread, applied at the execve.</summary>
    public void SetApparmorExecProfile(string profile) =>
        Libc.WriteFile(File.Exists("/proc/thread-self/attr/apparmor/exec") ? "/proc/thread-self/attr/apparmor/exec" : "/proc/thread-self/attr/exec", "exec " + profile);

    public void SetSelinuxExecLabel(string label) => Libc.WriteFile("/proc/thread-self/attr/exec", label);

    public void SetNoNewPrivileges() => Prctl(PR_SET_NO_NEW_PRIVS, 1, "no_new_privs");

    public void ApplyLandlock()
    {
        if (init.Landlock is { } ruleset)
            LandlockRestriction.Apply(ruleset);
    }

    public int Execute(string path, List<string> args, List<string> env)
    {
        execve(path, ToPointerArray(args), ToPointerArray(env));
        return Errors.LastErrno;
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
