using System.Text;
using Moat.Interop;
using Moat.Sandbox.Policy;
using Moat.Sandbox.Profile;
using static Moat.Interop.Libc;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// Decides and performs the trapped calls of one container. The rule every handler follows: a
/// decision never rests on memory the workload can change after the check. The arguments are copied
/// out once (process_vm_readv), the name is resolved by the supervisor itself inside the container's
/// root (openat2 RESOLVE_IN_ROOT), the policy is checked on what that resolution reached, and the
/// supervisor performs the operation on the object it checked and injects the result
/// (SECCOMP_IOCTL_NOTIF_ADDFD) or returns it. Only execve continues in the caller (docs/sandbox.md),
/// and the credential-changing calls, whose decision is the kernel's (they are seen only to keep CallerCache true).
/// </summary>
public sealed unsafe partial class Broker
{
    readonly SandboxPolicy policy;
    readonly RefusalLog log;
    readonly Dictionary<int, string> names = [];
    readonly CallerCache callers = new();
    readonly uint nativeArch;
    int rootFd = -1;
    /// <summary>The supervisor's own /proc/PID/fd, held: a checked object is reopened through it by number.</summary>
    readonly int ownFds;
    string rootPrefix = "/";
    List<(uint Inside, uint Outside, uint Count)> uidMap = [], gidMap = [];

    public Broker(SandboxPolicy policy, RefusalLog log)
    {
        this.policy = policy;
        this.log = log;
        nativeArch = Libseccomp.seccomp_arch_native();
        ownFds = Errors.Check(Libc.openat(AT_FDCWD, "/proc/self/fd", O_PATH | O_CLOEXEC | O_DIRECTORY, 0), "open", "/proc/self/fd");
        foreach (var name in SandboxSyscalls.Brokered.Concat(SandboxSyscalls.RefusedAndLogged).Concat(SandboxSyscalls.CredentialChanging).Append("sendto"))
        {
            var nr = Libseccomp.seccomp_syscall_resolve_name(name);
            if (nr >= 0)
                names[nr] = name;
        }
    }

    /// <summary>The container's root, its path as the supervisor's readlink shows it, and its id maps: from its init, once.</summary>
    public void AttachTo(int initPid)
    {
        rootFd = Errors.Check(Libc.openat(AT_FDCWD, $"/proc/{initPid}/root", O_PATH | O_CLOEXEC | O_DIRECTORY, 0), "open", $"/proc/{initPid}/root");
        rootPrefix = ReadLinkOfFd(rootFd) ?? "/";
        uidMap = ReadMap($"/proc/{initPid}/uid_map");
        gidMap = ReadMap($"/proc/{initPid}/gid_map");
        AllowedCpus = Libc.AllowedCpus(initPid);
        ConfinedCpu = AllowedCpus is [var sole] ? sole : -1;
    }

    /// <summary>The CPUs the container's init may run on (empty when they could not be read).</summary>
    public int[] AllowedCpus { get; private set; } = [];

    /// <summary>The one CPU the container's init may run on (a cpuset of one CPU, an exec CPU affinity), or -1: its calls are served from there.</summary>
    public int ConfinedCpu { get; private set; } = -1;

    public bool Attached => rootFd >= 0;

    static List<(uint, uint, uint)> ReadMap(string path)
    {
        var list = new List<(uint, uint, uint)>();
        foreach (var line in File.ReadAllLines(path))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3)
                list.Add((uint.Parse(f[0]), uint.Parse(f[1]), uint.Parse(f[2])));
        }
        return list;
    }

    /// <summary>A container id as the host sees it (the map read outside in), or null when unmapped.</summary>
    static uint? ToHost(List<(uint Inside, uint Outside, uint Count)> map, uint id)
    {
        foreach (var (inside, outside, count) in map)
            if (id >= inside && id - inside < count)
                return outside + (id - inside);
        return null;
    }

    static bool IsMappedHostId(List<(uint Inside, uint Outside, uint Count)> map, uint hostId)
    {
        foreach (var (_, outside, count) in map)
            if (hostId >= outside && hostId - outside < count)
                return true;
        return false;
    }

    /// <summary>Whether the container's user namespace maps the owner and group of this inode (so its capabilities apply to it).</summary>
    bool OwnedInside(int fd)
    {
        if (!FileStat(fd, out var uid, out var gid, out _))
            return false;
        return IsMappedHostId(uidMap, uid) && IsMappedHostId(gidMap, gid);
    }

    static bool FileStat(int fd, out uint uid, out uint gid, out uint mode) => DescriptorOwner(fd, out uid, out gid, out mode);

    /// <summary>Handles one notification from <paramref name="notifyFd"/>.</summary>
    public void Handle(int notifyFd, in SeccompNotification n)
    {
        var data = n.Data;
        if (data.Arch != nativeArch || !names.TryGetValue(data.Nr, out var name))
        {
            Refuse(notifyFd, n, $"syscall {data.Nr}", [], "not in the allow-list (foreign architecture or number)", Errors.EPERM);
            return;
        }
        var call = new Call(this, notifyFd, n, name);
        try
        {
            Dispatch(call);
        }
        catch (Exception e)
        {
            // A failure of the supervisor's own machinery answers the call (EIO, logged), never leaves
            // it hanging and never takes the supervisor, and with it the container, down.
            call.Fail(Errors.EIO, $"supervisor error: {e.GetType().Name}: {e.Message}");
        }
    }

    void Dispatch(Call c)
    {
        // The opens run as their callers and leave the thread so (ThreadIdentity: the next open of the
        // same ids switches nothing); every other call starts from the supervisor's own ids, as before.
        if (c.Name is not ("open" or "openat" or "creat" or "openat2"))
            ThreadIdentity.BeRoot();
        if (Array.IndexOf(SandboxSyscalls.CredentialChanging, c.Name) >= 0)
        {
            // Seen only to keep the credential cache true; the kernel decides the call itself.
            if (c.Name == "umask")
                callers.ForgetProcess(null);
            else
                callers.ForgetThread(c.Tid);
            c.Continue();
            return;
        }
        if (Array.IndexOf(SandboxSyscalls.RefusedAndLogged, c.Name) >= 0)
        {
            c.Refuse(Errors.EPERM, "refused: this call widens the kernel's reach (docs/sandbox.md, refused calls)");
            return;
        }
        var o = policy.OverrideFor(c.Name);
        if (o == CallOverride.Deny)
        {
            c.Refuse(Errors.EPERM, $"calls.{c.Name}: deny");
            return;
        }
        c.Unchecked = o == CallOverride.Allow;
        var a = c.Args;
        switch (c.Name)
        {
            case "open": Open(c, AT_FDCWD, a[0], (int)a[1], (uint)a[2], 0); break;
            case "openat": Open(c, (int)a[0], a[1], (int)a[2], (uint)a[3], 0); break;
            case "creat": Open(c, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, (uint)a[1], 0); break;
            case "openat2": Openat2(c); break;
            case "execve": Exec(c, AT_FDCWD, a[0], 0); break;
            case "execveat": Exec(c, (int)a[0], a[1], (int)a[4]); break;
            case "mkdir": MakeNode(c, AT_FDCWD, a[0], S_IFDIR | ((uint)a[1] & 0xfff), 0); break;
            case "mkdirat": MakeNode(c, (int)a[0], a[1], S_IFDIR | ((uint)a[2] & 0xfff), 0); break;
            case "mknod": MakeNode(c, AT_FDCWD, a[0], (uint)a[1], a[2]); break;
            case "mknodat": MakeNode(c, (int)a[0], a[1], (uint)a[2], a[3]); break;
            case "rmdir": Remove(c, AT_FDCWD, a[0], AT_REMOVEDIR); break;
            case "unlink": Remove(c, AT_FDCWD, a[0], 0); break;
            case "unlinkat": Remove(c, (int)a[0], a[1], (int)a[2] & AT_REMOVEDIR); break;
            case "rename": Rename(c, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); break;
            case "renameat": Rename(c, (int)a[0], a[1], (int)a[2], a[3], 0); break;
            case "renameat2": Rename(c, (int)a[0], a[1], (int)a[2], a[3], (uint)a[4]); break;
            case "link": Link(c, AT_FDCWD, a[0], AT_FDCWD, a[1], 0); break;
            case "linkat": Link(c, (int)a[0], a[1], (int)a[2], a[3], (int)a[4]); break;
            case "symlink": Symlink(c, a[0], AT_FDCWD, a[1]); break;
            case "symlinkat": Symlink(c, a[0], (int)a[1], a[2]); break;
            case "chmod": ChangeMode(c, AT_FDCWD, a[0], (uint)a[1], 0); break;
            case "fchmodat": ChangeMode(c, (int)a[0], a[1], (uint)a[2], 0); break;
            case "fchmodat2": ChangeMode(c, (int)a[0], a[1], (uint)a[2], (int)a[3]); break;
            case "chown": ChangeOwner(c, AT_FDCWD, a[0], (uint)a[1], (uint)a[2], 0); break;
            case "lchown": ChangeOwner(c, AT_FDCWD, a[0], (uint)a[1], (uint)a[2], AT_SYMLINK_NOFOLLOW); break;
            case "fchownat": ChangeOwner(c, (int)a[0], a[1], (uint)a[2], (uint)a[3], (int)a[4]); break;
            case "truncate": Truncate(c, a[0], (long)a[1]); break;
            case "connect": Connect(c); break;
            case "bind": Bind(c); break;
            case "sendto": SendTo(c); break;
            case "sendmsg": SendMsg(c); break;
            case "sendmmsg": SendMmsg(c); break;
            default: c.Refuse(Errors.EPERM, "not brokered"); break;
        }
    }

    void Refuse(int notifyFd, in SeccompNotification n, string call, IReadOnlyList<(string, string)> arguments, string rule, int errno)
    {
        ThreadIdentity.BeRoot();
        log.Refuse((int)n.Pid, call, arguments, rule, errno);
        SeccompRespond(notifyFd, n.Id, 0, -errno, 0);
    }

    /// <summary>One trapped call being handled: its arguments, its caller (read on first use), and how it is answered.</summary>
    sealed class Call(Broker broker, int notifyFd, SeccompNotification n, string name)
    {
        public string Name { get; } = name;
        public int Tid => (int)n.Pid;
        public ulong Id => n.Id;
        public int NotifyFd => notifyFd;
        public bool Unchecked { get; set; }
        public readonly List<(string, string)> Arguments = [];
        Caller? caller;

        public ulong[] Args { get; } = Copy(n);

        static ulong[] Copy(SeccompNotification n)
        {
            var a = new ulong[6];
            for (var i = 0; i < 6; i++)
                a[i] = n.Data.Args[i];
            return a;
        }

        /// <summary>The caller's credentials; null when it died meanwhile.</summary>
        public Caller? Caller => caller ??= broker.callers.Get(Tid);

        public void Reply(long value) => SeccompRespond(notifyFd, n.Id, value, 0, 0);

        public void Fail(int errno, string? why = null)
        {
            if (why is not null)
            {
                ThreadIdentity.BeRoot();
                broker.log.Refuse(Tid, Name, Arguments, why, errno);
            }
            SeccompRespond(notifyFd, n.Id, 0, -errno, 0);
        }

        /// <summary>A policy refusal: logged and counted, then answered with the errno.</summary>
        public void Refuse(int errno, string rule)
        {
            ThreadIdentity.BeRoot();
            broker.log.Refuse(Tid, Name, Arguments, rule, errno);
            SeccompRespond(notifyFd, n.Id, 0, -errno, 0);
        }

        public void Continue() => SeccompRespond(notifyFd, n.Id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);

        /// <summary>Answers with a result of the supervisor's own operation: a value, or -errno.</summary>
        public void Result(long result)
        {
            if (result < 0)
                SeccompRespond(notifyFd, n.Id, 0, (int)result, 0);
            else
                SeccompRespond(notifyFd, n.Id, result, 0, 0);
        }

        /// <summary>
        /// Installs <paramref name="fd"/> in the caller as the call's result (ADDFD with SEND), then closes
        /// ours, and <paramref name="alsoClose"/> with it (one close_range when the two are neighbours).
        /// </summary>
        public void ReplyWithDescriptor(int fd, bool closeOnExec, int alsoClose = -1)
        {
            ServingThread.AnswersWithDescriptors();
            var r = SeccompAddFd(notifyFd, n.Id, fd, SECCOMP_ADDFD_FLAG_SEND, closeOnExec ? (uint)O_CLOEXEC : 0);
            if (alsoClose >= 0 && Math.Abs(alsoClose - fd) == 1)
                CloseRange((uint)Math.Min(fd, alsoClose), (uint)Math.Max(fd, alsoClose));
            else
            {
                close(fd);
                if (alsoClose >= 0)
                    close(alsoClose);
            }
            if (r < 0 && r != -Errors.ENOENT)
                SeccompRespond(notifyFd, n.Id, 0, r, 0);
        }

        /// <summary>Whether the notification is still the same pending call (checked after reading the caller's memory: its pid could have been reused).</summary>
        public bool StillValid() => SeccompIdValid(notifyFd, n.Id);
    }

    /// <summary>The target of a symlink-like descriptor path (/proc/self/fd/N), as a string, or null.</summary>
    static string? ReadLinkOfFd(int fd)
    {
        var path = stackalloc byte[40];
        WriteProcFdPath(path, fd);
        var buffer = stackalloc byte[4096];
        var n = BrokerReadlinkat(AT_FDCWD, path, buffer, 4096);
        return n < 0 ? null : Encoding.UTF8.GetString(buffer, n);
    }

    /// <summary>The decimal digits of <paramref name="value"/> (not negative) and a NUL into <paramref name="buffer"/> (at least 12 bytes).</summary>
    static void WriteDecimal(byte* buffer, int value)
    {
        var digits = stackalloc byte[11];
        var d = 0;
        do
        {
            digits[d++] = (byte)('0' + value % 10);
            value /= 10;
        }
        while (value > 0);
        var i = 0;
        while (d > 0)
            buffer[i++] = digits[--d];
        buffer[i] = 0;
    }

    /// <summary>"/proc/self/fd/N\0" into <paramref name="buffer"/> (at least 32 bytes).</summary>
    static void WriteProcFdPath(byte* buffer, int fd)
    {
        var text = "/proc/self/fd/";
        var i = 0;
        foreach (var ch in text)
            buffer[i++] = (byte)ch;
        Span<byte> digits = stackalloc byte[12];
        var d = 0;
        var v = fd;
        do
        {
            digits[d++] = (byte)('0' + v % 10);
            v /= 10;
        }
        while (v > 0);
        while (d > 0)
            buffer[i++] = digits[--d];
        buffer[i] = 0;
    }

    const uint S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFIFO = 0x1000, S_IFSOCK = 0xC000, S_IFCHR = 0x2000, S_IFBLK = 0x6000;
    const int O_CREAT = 0x40, O_EXCL = 0x80, O_TRUNC = 0x200, O_NOFOLLOW = 0x20000, O_DIRECTORY = 0x10000, O_TMPFILE_BIT = 0x400000,
        O_ACCMODE = 3, O_WRONLY = 1, O_NONBLOCK = 0x800, O_APPEND = 0x400, O_DIRECT = 0x4000, O_NOATIME = 0x40000;
}
