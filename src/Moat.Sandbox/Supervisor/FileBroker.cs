using System.Text;
using Moat.Interop;
using static Moat.Interop.Libc;

namespace Moat.Sandbox.Supervisor;

/// <summary>The brokered calls that reach the file system by name: open, exec and the calls that change names.</summary>
public sealed unsafe partial class Broker
{
    /// <summary>Copies a path out of the caller (once); null after answering the call when that fails.</summary>
    string? ReadPath(Call c, ulong address, string argument)
    {
        var buffer = stackalloc byte[4097];
        // Through the caller's /proc/TID/mem when it is cached (no access check per read); else process_vm_readv.
        var memory = c.Caller?.Memory ?? -1;
        var n = memory >= 0 ? ReadProcessStringAt(memory, address, buffer, 4096) : -Errors.ESRCH;
        if (n == -Errors.ESRCH)
        {
            // Not cached, or the descriptor's memory is gone (an execve raced the cache): the entry goes.
            if (memory >= 0)
                callers.ForgetThread(c.Tid);
            n = ReadProcessString(c.Tid, address, buffer, 4096);
        }
        if (n < 0)
        {
            c.Fail(-n);
            return null;
        }
        var path = Encoding.UTF8.GetString(buffer, n);
        c.Arguments.Add((argument, RefusalLog.Describe(path)));
        return path;
    }

    /// <summary>
    /// The path as an absolute path inside the container's root: relative ones joined to the caller's
    /// working directory or directory descriptor (as /proc shows them), /proc/self and /proc/thread-self
    /// written as the caller's own pid (the supervisor is not in the container's pid namespace). Null after
    /// answering the call when the base cannot be found. Nothing here decides: the result is resolved by
    /// the supervisor and the policy checked on what the resolution reached.
    /// </summary>
    string? Absolute(Call c, int dirfd, string path)
    {
        if (path.Length == 0)
        {
            c.Fail(Errors.ENOENT);
            return null;
        }
        string absolute;
        if (path[0] == '/')
            absolute = path;
        else
        {
            var link = dirfd == AT_FDCWD ? $"/proc/{c.Tid}/cwd" : $"/proc/{c.Tid}/fd/{dirfd}";
            var target = TryReadLink(link);
            if (target is null)
            {
                c.Fail(dirfd == AT_FDCWD ? Errors.ENOENT : Errors.EBADF);
                return null;
            }
            if (StripRoot(target) is not { } inside)
            {
                c.Refuse(Errors.EACCES, $"the directory {target} is outside the container's root");
                return null;
            }
            absolute = inside == "/" ? "/" + path : inside + "/" + path;
        }
        if (absolute.StartsWith("/proc/self", StringComparison.Ordinal) || absolute.StartsWith("/proc/thread-self", StringComparison.Ordinal))
        {
            if (c.Caller is not { } caller)
            {
                c.Fail(Errors.ESRCH);
                return null;
            }
            if (absolute.StartsWith("/proc/self", StringComparison.Ordinal) && (absolute.Length == 10 || absolute[10] == '/'))
                absolute = $"/proc/{caller.NsTgid}{absolute[10..]}";
            else if (absolute.Length == 17 || absolute[17] == '/')
                absolute = $"/proc/{caller.NsTgid}/task/{caller.NsTid}{absolute[17..]}";
        }
        return absolute;
    }

    static string? TryReadLink(string link)
    {
        // Another process's /proc links: read as the supervisor, whoever the thread last acted as.
        ThreadIdentity.BeRoot();
        var bytes = Encoding.UTF8.GetBytes(link + "\0");
        var buffer = stackalloc byte[4096];
        fixed (byte* p = bytes)
        {
            var n = BrokerReadlinkat(AT_FDCWD, p, buffer, 4096);
            return n < 0 ? null : Encoding.UTF8.GetString(buffer, n);
        }
    }

    /// <summary>A path as the supervisor's /proc shows it, made relative to the container's root; null when outside it.</summary>
    string? StripRoot(string hostView)
    {
        if (rootPrefix == "/")
            return hostView.StartsWith('/') ? hostView : null;
        if (hostView == rootPrefix)
            return "/";
        return hostView.StartsWith(rootPrefix + "/", StringComparison.Ordinal) ? hostView[rootPrefix.Length..] : null;
    }

    static bool HasDotDot(string path) => path == ".." || path.StartsWith("../", StringComparison.Ordinal)
        || path.Contains("/../", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal);

    /// <summary>An absolute path without "..", with "." and empty components dropped.</summary>
    static string Lexical(string absolute)
    {
        var parts = new List<string>();
        foreach (var part in absolute.Split('/'))
            if (part is not ("" or "."))
                parts.Add(part);
        return "/" + string.Join('/', parts);
    }

    /// <summary>Where a descriptor the supervisor opened really is, inside the root; null when outside or not a path.</summary>
    string? InRoot(int fd) => ReadLinkOfFd(fd) is { } target ? StripRoot(target) : null;

    /// <summary>openat2 in the container's root; the path never leaves it (symlinks and ".." are resolved inside).</summary>
    int ResolveInRoot(string absolute, int flags, ulong extraResolve = 0)
    {
        var bytes = Encoding.UTF8.GetBytes(absolute + "\0");
        fixed (byte* p = bytes)
            return BrokerOpenat2(rootFd, p, (ulong)(flags | O_PATH | O_CLOEXEC), 0, RESOLVE_IN_ROOT | extraResolve);
    }

    /// <summary>The parent directory of the last component, opened in the root, and the canonical full path; null after answering.</summary>
    (int Parent, string Name, string Full)? ResolveParent(Call c, string absolute)
    {
        var trimmed = absolute.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        var name = trimmed[(slash + 1)..];
        if (name.Length == 0 || name is "." or "..")
        {
            c.Fail(name.Length == 0 ? Errors.EEXIST : Errors.EINVAL);
            return null;
        }
        var parentPath = slash <= 0 ? "/" : trimmed[..slash];
        var parent = ResolveInRoot(parentPath, O_DIRECTORY);
        if (parent < 0)
        {
            c.Fail(-parent);
            return null;
        }
        if (InRoot(parent) is not { } canonicalParent)
        {
            close(parent);
            c.Refuse(Errors.EACCES, $"{parentPath} resolves outside the container's root");
            return null;
        }
        return (parent, name, canonicalParent == "/" ? "/" + name : canonicalParent + "/" + name);
    }

    /// <summary>Checks a canonical path for a write (create, remove, change); false after refusing.</summary>
    bool MayWrite(Call c, string full)
    {
        if (policy.IsHidden(full))
        {
            c.Refuse(Errors.ENOENT, $"hidden: {full}");
            return false;
        }
        if (!c.Unchecked && !policy.CanWrite(full))
        {
            c.Refuse(Errors.EACCES, $"writable: {full} is not in the policy's writable paths");
            return false;
        }
        return true;
    }

    /// <summary>Whether a failure as the caller would have succeeded with the caller's capability in its own namespace.</summary>
    bool RetryWithCapability(int result, Caller caller, int ownedFd) =>
        ((result == -Errors.EACCES && caller.Has(Caller.CAP_DAC_OVERRIDE)) || (result == -Errors.EPERM && caller.Has(Caller.CAP_FOWNER)))
        && OwnedInside(ownedFd);

    void Open(Call c, int dirfd, ulong pathAddress, int flags, uint mode, ulong resolve)
    {
        if (ReadPath(c, pathAddress, "path") is not { } path || Absolute(c, dirfd, path) is not { } absolute)
            return;
        if ((flags & O_TMPFILE_BIT) != 0)
        {
            // An unnamed file in a directory: a write to that directory.
            ThreadIdentity.BeRoot();
            OpenIn(c, absolute, flags, mode);
            return;
        }
        if (c.Caller is not { } caller)
        {
            c.Fail(Errors.ESRCH);
            return;
        }
        if (TryOpenDirectly(c, caller, absolute, flags, mode, resolve))
            return;
        // A path without ".." resolved without following any symlink only descends, name by name,
        // so what it reaches is at its lexical form: no readlink needed to know where it is. (With
        // "..", a directory renamed during the walk could make ".." climb elsewhere than the text
        // says; a symlink (ELOOP) takes the full resolution and the readlink. A missing name or a
        // file where a directory should be fails the same way both ways: the walk met no symlink
        // before it.)
        string? canonicalPath = null;
        var o = -Errors.ELOOP;
        if (!HasDotDot(absolute))
        {
            o = ResolveAsCaller(caller, absolute, flags & (O_NOFOLLOW | O_DIRECTORY), resolve | RESOLVE_NO_SYMLINKS);
            if (o >= 0)
                canonicalPath = Lexical(absolute);
        }
        if (o < 0 && o != -Errors.ENOENT && o != -Errors.ENOTDIR)
            o = ResolveAsCaller(caller, absolute, flags & (O_NOFOLLOW | O_DIRECTORY), resolve);
        if (o == -Errors.EXDEV)
        {
            ThreadIdentity.BeRoot();
            OpenOwnDescriptor(c, absolute, flags);
            return;
        }
        if (o == -Errors.ENOENT && (flags & O_CREAT) != 0)
        {
            ThreadIdentity.BeRoot();
            Create(c, absolute, flags, mode);
            return;
        }
        if (o < 0)
        {
            c.Fail(-o);
            return;
        }
        try
        {
            if ((canonicalPath ?? InRoot(o)) is not { } canonical)
            {
                c.Refuse(Errors.EACCES, $"{absolute} resolves outside the container's root");
                return;
            }
            c.Arguments.Add(("resolved", canonical));
            var write = (flags & O_ACCMODE) != 0 || (flags & O_TRUNC) != 0;
            if (policy.IsHidden(canonical))
            {
                c.Refuse(Errors.ENOENT, $"hidden: {canonical}");
                return;
            }
            if (!c.Unchecked && !(write ? policy.CanWrite(canonical) : policy.CanRead(canonical)))
            {
                c.Refuse(Errors.EACCES, write ? $"writable: {canonical} is not in the policy's writable paths" : $"readable: {canonical} is not in the policy's readable paths");
                return;
            }
            if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
            {
                c.Fail(Errors.EEXIST);
                return;
            }
            if ((flags & O_PATH) != 0)
            {
                c.ReplyWithDescriptor(o, (flags & O_CLOEXEC) != 0);
                o = -1;
                return;
            }
            FileStat(o, out _, out _, out var fileMode);
            if ((fileMode & S_IFMT) == S_IFIFO && (flags & O_NONBLOCK) == 0)
            {
                // Opening a FIFO waits for its other end: not on the supervisor's loop.
                var pending = o;
                o = -1;
                ThreadPool.UnsafeQueueUserWorkItem(_ =>
                {
                    try
                    {
                        Reopen(c, caller, pending, flags);
                    }
                    finally
                    {
                        close(pending);
                        ThreadIdentity.BeRoot();
                    }
                }, null);
                return;
            }
            Reopen(c, caller, o, flags, closeSource: true);
            o = -1;
        }
        finally
        {
            if (o >= 0)
                close(o);
        }
    }

    /// <summary>
    /// The common open, in one open instead of a resolution and a reopen: a path without "..", whose
    /// lexical form the policy allows, and where a regular file or a directory is now (a look that
    /// may follow symlinks: only a hint), is opened by the supervisor as the caller with the caller's
    /// flags, in the root, following no symlink — so what it opens is at exactly the path checked
    /// (the rule of the resolution above). O_NONBLOCK is added for the open and taken off after:
    /// if a FIFO or device was put there between the look and the open, the open does not wait for
    /// it (the workload raced itself; the path was allowed). False when nothing was opened or answered:
    /// a symlink, "..", a refusal to log, a missing name, any error — the full way then decides.
    /// </summary>
    bool TryOpenDirectly(Call c, Caller caller, string absolute, int flags, uint mode, ulong resolve)
    {
        if ((flags & O_PATH) != 0 || HasDotDot(absolute))
            return false;
        var lexical = Lexical(absolute);
        var create = (flags & O_CREAT) != 0;
        var write = (flags & O_ACCMODE) != 0 || (flags & O_TRUNC) != 0;
        // O_CREAT may make the name: only where a write is allowed (what Create would check).
        if (policy.IsHidden(lexical) || (!c.Unchecked && !(write || create ? policy.CanWrite(lexical) : policy.CanRead(lexical))))
            return false;
        var bytes = Encoding.UTF8.GetBytes(lexical + "\0");
        ThreadIdentity.ActAs(caller);
        int o;
        fixed (byte* p = bytes)
        {
            // Relative to the root's descriptor ("/" itself is ".").
            var type = lexical.Length == 1 ? (int)S_IFDIR : BrokerTypeOf(rootFd, p + 1);
            if (type is not ((int)S_IFREG or (int)S_IFDIR))
                return false;
            o = BrokerOpenat2(rootFd, p, (ulong)((flags & ~O_CLOEXEC) | O_CLOEXEC | O_NONBLOCK), create ? mode & 0xfff & ~caller.Umask : 0,
                RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | resolve);
        }
        if (o < 0)
            return false;
        // The caller's own status flags (those F_SETFL sets; O_ASYNC is ignored at open, so not here).
        if ((flags & O_NONBLOCK) == 0 && BrokerSetStatusFlags(o, flags & (O_APPEND | O_DIRECT | O_NOATIME)) < 0)
        {
            close(o);
            return false;
        }
        c.ReplyWithDescriptor(o, (flags & O_CLOEXEC) != 0);
        return true;
    }

    /// <summary>
    /// openat2 in the container's root with the caller's file-system ids and groups, so that the walk
    /// needs the caller's search permission on every directory, as the kernel would ask. A caller that
    /// holds CAP_DAC_OVERRIDE or CAP_DAC_READ_SEARCH in its namespace is resolved by the supervisor
    /// itself when its ids do not suffice (the capability's reach over the inodes on the way is not
    /// checked: the approximation docs/sandbox.md names). Leaves the thread acting as the caller or as itself.
    /// </summary>
    int ResolveAsCaller(Caller caller, string absolute, int flags, ulong resolve)
    {
        ThreadIdentity.ActAs(caller);
        var o = ResolveInRoot(absolute, flags, resolve);
        if (o == -Errors.EACCES && (caller.Has(Caller.CAP_DAC_OVERRIDE) || caller.Has(Caller.CAP_DAC_READ_SEARCH)))
        {
            ThreadIdentity.BeRoot();
            o = ResolveInRoot(absolute, flags, resolve);
        }
        return o;
    }

    /// <summary>
    /// Opens the checked object itself (through /proc/self/fd/N) with the caller's flags and credentials,
    /// and hands it over. With <paramref name="closeSource"/> it also closes <paramref name="o"/> (with
    /// the new descriptor, in one close_range when they are neighbours).
    /// </summary>
    void Reopen(Call c, Caller caller, int o, int flags, bool closeSource = false)
    {
        var name = stackalloc byte[12];
        WriteDecimal(name, o);
        var reopenFlags = (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)) | O_CLOEXEC;
        // Relative to the supervisor's own /proc/<pid>/fd, held open: one name to walk, not four.
        ThreadIdentity.ActAs(caller);
        var n = BrokerOpenat(ownFds, name, reopenFlags, 0);
        if (n < 0 && RetryWithCapability(n, caller, o))
        {
            ThreadIdentity.BeRoot();
            n = BrokerOpenat(ownFds, name, reopenFlags, 0);
        }
        if (n < 0)
        {
            if (closeSource)
                close(o);
            c.Fail(-n);
            return;
        }
        c.ReplyWithDescriptor(n, (flags & O_CLOEXEC) != 0, closeSource ? o : -1);
    }

    /// <summary>O_CREAT of a name that does not exist: checked as a write to the parent's entry, created there by name.</summary>
    void Create(Call c, string absolute, int flags, uint mode)
    {
        if (absolute.EndsWith('/'))
        {
            c.Fail(Errors.EISDIR);
            return;
        }
        if (ResolveParent(c, absolute) is not var (parent, name, full))
            return;
        try
        {
            c.Arguments.Add(("resolved", full));
            if (!MayWrite(c, full))
                return;
            if (c.Caller is not { } caller)
            {
                c.Fail(Errors.ESRCH);
                return;
            }
            var bytes = Encoding.UTF8.GetBytes(name + "\0");
            var createFlags = (flags & ~O_CLOEXEC) | O_CLOEXEC | O_NOFOLLOW;
            var createMode = mode & 0xfff & ~caller.Umask;
            int n;
            fixed (byte* p = bytes)
            {
                ThreadIdentity.ActAs(caller);
                n = BrokerOpenat(parent, p, createFlags, createMode);
                ThreadIdentity.BeRoot();
                if (n < 0 && RetryWithCapability(n, caller, parent))
                {
                    n = BrokerOpenat(parent, p, createFlags, createMode);
                    if (n >= 0)
                        BrokerFchown(n, caller.FsUid, caller.FsGid);
                }
            }
            if (n < 0)
                c.Fail(-n);
            else
                c.ReplyWithDescriptor(n, (flags & O_CLOEXEC) != 0);
        }
        finally
        {
            close(parent);
        }
    }

    /// <summary>O_TMPFILE: an unnamed file in a writable directory.</summary>
    void OpenIn(Call c, string directory, int flags, uint mode)
    {
        var d = ResolveInRoot(directory, O_DIRECTORY);
        if (d < 0)
        {
            c.Fail(-d);
            return;
        }
        try
        {
            if (InRoot(d) is not { } canonical || !MayWrite(c, canonical) || c.Caller is not { } caller)
                return;
            var dot = stackalloc byte[2];
            dot[0] = (byte)'.';
            dot[1] = 0;
            ThreadIdentity.ActAs(caller);
            var n = BrokerOpenat(d, dot, (flags & ~O_CLOEXEC) | O_CLOEXEC, mode & 0xfff & ~caller.Umask);
            ThreadIdentity.BeRoot();
            if (n < 0)
                c.Fail(-n);
            else
                c.ReplyWithDescriptor(n, (flags & O_CLOEXEC) != 0);
        }
        finally
        {
            close(d);
        }
    }

    /// <summary>
    /// /proc/PID/fd/N, /dev/fd/N, /dev/stdin...: a magic link to one of the caller's own descriptors, which
    /// RESOLVE_IN_ROOT refuses to follow. The supervisor takes that descriptor (pidfd_getfd), checks what it
    /// is, and reopens it with the caller's flags.
    /// </summary>
    void OpenOwnDescriptor(Call c, string absolute, int flags)
    {
        if (c.Caller is not { } caller)
        {
            c.Fail(Errors.ESRCH);
            return;
        }
        var fdNumber = OwnDescriptorNumber(absolute, caller);
        if (fdNumber < 0)
        {
            c.Refuse(Errors.EACCES, $"{absolute}: a magic link the sandbox does not follow (only the caller's own descriptors)");
            return;
        }
        using var pidfd = TryPidfdOpen(caller.Tgid);
        if (pidfd is null)
        {
            c.Fail(Errors.ESRCH);
            return;
        }
        var g = PidfdGetFd(pidfd.Fd, fdNumber);
        if (g < 0)
        {
            c.Fail(g == -Errors.EBADF ? Errors.ENOENT : -g);
            return;
        }
        try
        {
            // A pipe or socket ("pipe:[N]") is the caller's own; a file is checked like any other.
            if (ReadLinkOfFd(g) is { } target && target.StartsWith('/'))
            {
                var canonical = StripRoot(target);
                var write = (flags & O_ACCMODE) != 0 || (flags & O_TRUNC) != 0;
                if (canonical is null || policy.IsHidden(canonical) || (!c.Unchecked && !(write ? policy.CanWrite(canonical) : policy.CanRead(canonical))))
                {
                    c.Refuse(Errors.EACCES, $"{absolute} → {target}: not allowed by the policy");
                    return;
                }
            }
            Reopen(c, caller, g, flags);
        }
        finally
        {
            close(g);
        }
    }

    /// <summary>The descriptor number a magic link of the caller names, or -1.</summary>
    static int OwnDescriptorNumber(string path, Caller caller)
    {
        switch (path)
        {
            case "/dev/stdin": return 0;
            case "/dev/stdout": return 1;
            case "/dev/stderr": return 2;
        }
        string? rest = null;
        if (path.StartsWith("/dev/fd/", StringComparison.Ordinal))
            rest = path[8..];
        else if (path.StartsWith($"/proc/{caller.NsTgid}/fd/", StringComparison.Ordinal))
            rest = path[$"/proc/{caller.NsTgid}/fd/".Length..];
        else if (path.StartsWith($"/proc/{caller.NsTgid}/task/{caller.NsTid}/fd/", StringComparison.Ordinal))
            rest = path[$"/proc/{caller.NsTgid}/task/{caller.NsTid}/fd/".Length..];
        return rest is not null && int.TryParse(rest, System.Globalization.NumberStyles.None, null, out var n) ? n : -1;
    }

    void Openat2(Call c)
    {
        var a = c.Args;
        var size = (int)Math.Min(a[3], 64);
        if (size < 24)
        {
            c.Fail(Errors.EINVAL);
            return;
        }
        var how = stackalloc ulong[3];
        if (ReadProcessMemory(c.Tid, a[2], (byte*)how, 24) != 24)
        {
            c.Fail(14);
            return;
        }
        // Scoped resolution relative to a descriptor cannot be combined with the supervisor's
        // resolution in the root: ENOSYS makes a library fall back to openat.
        if ((how[2] & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) != 0)
        {
            c.Fail(Errors.ENOSYS);
            return;
        }
        Open(c, (int)a[0], a[1], (int)how[0], (uint)how[1], how[2] & (RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS));
    }

    /// <summary>
    /// execve/execveat: the one call that continues in the caller, because no one but the caller can
    /// replace its program. The check is made on the supervisor's own resolution, and the same rule is
    /// enforced by the kernel at the exec itself: the Landlock ruleset grants execute only beneath the
    /// policy's executables, so a path swapped after the check can only reach another allowed program.
    /// </summary>
    void Exec(Call c, int dirfd, ulong pathAddress, int flags)
    {
        if (ReadPath(c, pathAddress, "path") is not { } path)
            return;
        string? canonical;
        if (path.Length == 0 && (flags & AT_EMPTY_PATH) != 0)
        {
            if (c.Caller is not { } caller)
            {
                c.Fail(Errors.ESRCH);
                return;
            }
            using var pidfd = TryPidfdOpen(caller.Tgid);
            var g = pidfd is null ? -Errors.ESRCH : PidfdGetFd(pidfd.Fd, dirfd);
            if (g < 0)
            {
                c.Fail(-g);
                return;
            }
            canonical = InRoot(g);
            close(g);
        }
        else
        {
            if (Absolute(c, dirfd, path) is not { } absolute)
                return;
            var o = ResolveInRoot(absolute, (flags & AT_SYMLINK_NOFOLLOW) != 0 ? O_NOFOLLOW : 0);
            if (o == -Errors.EXDEV && c.Caller is { } self && absolute == $"/proc/{self.NsTgid}/exe")
            {
                // The caller's own program again (busybox runs its applets so): what it runs now.
                canonical = TryReadLink($"/proc/{c.Tid}/exe") is { } exe ? StripRoot(exe) : null;
            }
            else if (o < 0)
            {
                if (o == -Errors.EXDEV)
                    c.Refuse(Errors.EACCES, $"{absolute}: executing through a magic link is not allowed in the sandbox");
                else
                    c.Fail(-o);
                return;
            }
            else
            {
                canonical = InRoot(o);
                close(o);
            }
        }
        if (canonical is null)
        {
            c.Refuse(Errors.EACCES, "the program is not a file in the container's root");
            return;
        }
        c.Arguments.Add(("resolved", canonical));
        if (policy.IsHidden(canonical))
        {
            c.Refuse(Errors.ENOENT, $"hidden: {canonical}");
            return;
        }
        if (!c.Unchecked && !policy.CanExecute(canonical))
        {
            c.Refuse(Errors.EACCES, $"executables: {canonical} is not in the policy's executables");
            return;
        }
        // The program may change the process's capabilities: what was cached of its threads goes.
        callers.ForgetProcess(c.Caller?.Tgid);
        c.Continue();
    }

    void MakeNode(Call c, int dirfd, ulong pathAddress, uint mode, ulong device)
    {
        var type = mode & S_IFMT;
        if (type == 0)
            type = S_IFREG;
        if (ReadPath(c, pathAddress, "path") is not { } path || Absolute(c, dirfd, path) is not { } absolute)
            return;
        if (type is S_IFCHR or S_IFBLK)
        {
            c.Refuse(Errors.EPERM, "device nodes cannot be made in the sandbox");
            return;
        }
        if (ResolveParent(c, absolute) is not var (parent, name, full))
            return;
        try
        {
            c.Arguments.Add(("resolved", full));
            if (!MayWrite(c, full) || c.Caller is not { } caller)
                return;
            var perm = mode & 0xfff & ~caller.Umask;
            var bytes = Encoding.UTF8.GetBytes(name + "\0");
            fixed (byte* p = bytes)
            {
                ThreadIdentity.ActAs(caller);
                var r = type == S_IFDIR ? BrokerMkdirat(parent, p, perm) : BrokerMknodat(parent, p, type | perm, 0);
                ThreadIdentity.BeRoot();
                if (r < 0 && RetryWithCapability(r, caller, parent))
                {
                    r = type == S_IFDIR ? BrokerMkdirat(parent, p, perm) : BrokerMknodat(parent, p, type | perm, 0);
                    if (r >= 0)
                        ChownEntry(parent, p, caller.FsUid, caller.FsGid);
                }
                c.Result(r);
            }
        }
        finally
        {
            close(parent);
        }
    }

    /// <summary>Gives a new entry, made with the supervisor's rights, to the caller.</summary>
    static void ChownEntry(int parent, byte* name, uint uid, uint gid)
    {
        var o = BrokerOpenat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
        if (o < 0)
            return;
        BrokerFchown(o, uid, gid);
        close(o);
    }

    void Remove(Call c, int dirfd, ulong pathAddress, int flags)
    {
        if (ReadPath(c, pathAddress, "path") is not { } path || Absolute(c, dirfd, path) is not { } absolute)
            return;
        if (ResolveParent(c, absolute) is not var (parent, name, full))
            return;
        try
        {
            c.Arguments.Add(("resolved", full));
            if (!MayWrite(c, full) || c.Caller is not { } caller)
                return;
            var bytes = Encoding.UTF8.GetBytes(name + "\0");
            fixed (byte* p = bytes)
            {
                ThreadIdentity.ActAs(caller);
                var r = BrokerUnlinkat(parent, p, flags);
                ThreadIdentity.BeRoot();
                if (r < 0 && RetryWithCapability(r, caller, parent))
                    r = BrokerUnlinkat(parent, p, flags);
                c.Result(r);
            }
        }
        finally
        {
            close(parent);
        }
    }

    void Rename(Call c, int oldDirfd, ulong oldAddress, int newDirfd, ulong newAddress, uint flags)
    {
        if (ReadPath(c, oldAddress, "from") is not { } from || ReadPath(c, newAddress, "to") is not { } to)
            return;
        if (Absolute(c, oldDirfd, from) is not { } oldAbsolute || Absolute(c, newDirfd, to) is not { } newAbsolute)
            return;
        if (ResolveParent(c, oldAbsolute) is not var (oldParent, oldName, oldFull))
            return;
        try
        {
            if (ResolveParent(c, newAbsolute) is not var (newParent, newName, newFull))
                return;
            try
            {
                c.Arguments.Add(("resolvedFrom", oldFull));
                c.Arguments.Add(("resolvedTo", newFull));
                if (!MayWrite(c, oldFull) || !MayWrite(c, newFull) || c.Caller is not { } caller)
                    return;
                var o = Encoding.UTF8.GetBytes(oldName + "\0");
                var n = Encoding.UTF8.GetBytes(newName + "\0");
                fixed (byte* po = o)
                fixed (byte* pn = n)
                {
                    ThreadIdentity.ActAs(caller);
                    var r = BrokerRenameat2(oldParent, po, newParent, pn, flags);
                    ThreadIdentity.BeRoot();
                    if (r < 0 && RetryWithCapability(r, caller, oldParent) && OwnedInside(newParent))
                        r = BrokerRenameat2(oldParent, po, newParent, pn, flags);
                    c.Result(r);
                }
            }
            finally
            {
                close(newParent);
            }
        }
        finally
        {
            close(oldParent);
        }
    }

    void Link(Call c, int oldDirfd, ulong oldAddress, int newDirfd, ulong newAddress, int flags)
    {
        const int AT_SYMLINK_FOLLOW = 0x400;
        if (ReadPath(c, oldAddress, "target") is not { } from || ReadPath(c, newAddress, "link") is not { } to)
            return;
        if ((flags & AT_EMPTY_PATH) != 0 && from.Length == 0)
        {
            c.Refuse(Errors.EPERM, "linking a descriptor (AT_EMPTY_PATH) is not allowed in the sandbox");
            return;
        }
        if (Absolute(c, oldDirfd, from) is not { } oldAbsolute || Absolute(c, newDirfd, to) is not { } newAbsolute)
            return;
        var target = ResolveInRoot(oldAbsolute, (flags & AT_SYMLINK_FOLLOW) != 0 ? 0 : O_NOFOLLOW);
        if (target < 0)
        {
            c.Fail(-target);
            return;
        }
        try
        {
            // A new name for a file is a way to write it: the file itself must be writable.
            if (InRoot(target) is not { } canonicalTarget || !MayWrite(c, canonicalTarget))
                return;
            if (ResolveParent(c, newAbsolute) is not var (parent, name, full))
                return;
            try
            {
                c.Arguments.Add(("resolved", full));
                if (!MayWrite(c, full) || c.Caller is not { } caller)
                    return;
                var source = stackalloc byte[40];
                WriteProcFdPath(source, target);
                var n = Encoding.UTF8.GetBytes(name + "\0");
                fixed (byte* pn = n)
                {
                    ThreadIdentity.ActAs(caller);
                    var r = BrokerLinkat(AT_FDCWD, source, parent, pn, AT_SYMLINK_FOLLOW);
                    ThreadIdentity.BeRoot();
                    if (r < 0 && RetryWithCapability(r, caller, parent))
                        r = BrokerLinkat(AT_FDCWD, source, parent, pn, AT_SYMLINK_FOLLOW);
                    c.Result(r);
                }
            }
            finally
            {
                close(parent);
            }
        }
        finally
        {
            close(target);
        }
    }

    void Symlink(Call c, ulong targetAddress, int dirfd, ulong linkAddress)
    {
        if (ReadPath(c, targetAddress, "target") is not { } target || ReadPath(c, linkAddress, "link") is not { } link)
            return;
        if (Absolute(c, dirfd, link) is not { } absolute || ResolveParent(c, absolute) is not var (parent, name, full))
            return;
        try
        {
            c.Arguments.Add(("resolved", full));
            if (!MayWrite(c, full) || c.Caller is not { } caller)
                return;
            var t = Encoding.UTF8.GetBytes(target + "\0");
            var n = Encoding.UTF8.GetBytes(name + "\0");
            fixed (byte* pt = t)
            fixed (byte* pn = n)
            {
                ThreadIdentity.ActAs(caller);
                var r = BrokerSymlinkat(pt, parent, pn);
                ThreadIdentity.BeRoot();
                if (r < 0 && RetryWithCapability(r, caller, parent))
                {
                    r = BrokerSymlinkat(pt, parent, pn);
                    if (r >= 0)
                        ChownEntry(parent, pn, caller.FsUid, caller.FsGid);
                }
                c.Result(r);
            }
        }
        finally
        {
            close(parent);
        }
    }

    /// <summary>An existing object for a change (chmod, chown, truncate): resolved, checked writable; its O_PATH descriptor, or -1 after answering.</summary>
    int ResolveForChange(Call c, int dirfd, ulong pathAddress, bool follow)
    {
        if (ReadPath(c, pathAddress, "path") is not { } path || Absolute(c, dirfd, path) is not { } absolute)
            return -1;
        var o = ResolveInRoot(absolute, follow ? 0 : O_NOFOLLOW);
        if (o < 0)
        {
            c.Fail(-o);
            return -1;
        }
        if (InRoot(o) is not { } canonical)
        {
            close(o);
            c.Refuse(Errors.EACCES, $"{absolute} resolves outside the container's root");
            return -1;
        }
        c.Arguments.Add(("resolved", canonical));
        if (!MayWrite(c, canonical))
        {
            close(o);
            return -1;
        }
        return o;
    }

    void ChangeMode(Call c, int dirfd, ulong pathAddress, uint mode, int flags)
    {
        var o = ResolveForChange(c, dirfd, pathAddress, (flags & AT_SYMLINK_NOFOLLOW) == 0);
        if (o < 0)
            return;
        try
        {
            if (c.Caller is not { } caller)
            {
                c.Fail(Errors.ESRCH);
                return;
            }
            ThreadIdentity.ActAs(caller);
            var r = BrokerFchmod(o, mode & 0xfff);
            ThreadIdentity.BeRoot();
            if (r == -Errors.EPERM && caller.Has(Caller.CAP_FOWNER) && OwnedInside(o))
                r = BrokerFchmod(o, mode & 0xfff);
            c.Result(r);
        }
        finally
        {
            close(o);
        }
    }

    void ChangeOwner(Call c, int dirfd, ulong pathAddress, uint uid, uint gid, int flags)
    {
        var o = ResolveForChange(c, dirfd, pathAddress, (flags & AT_SYMLINK_NOFOLLOW) == 0);
        if (o < 0)
            return;
        try
        {
            if (c.Caller is not { } caller)
            {
                c.Fail(Errors.ESRCH);
                return;
            }
            // The ids are the container's: the host's are what its user namespace maps them to.
            uint? hostUid = uid == uint.MaxValue ? uint.MaxValue : ToHost(uidMap, uid);
            uint? hostGid = gid == uint.MaxValue ? uint.MaxValue : ToHost(gidMap, gid);
            if (hostUid is null || hostGid is null)
            {
                c.Fail(Errors.EINVAL);
                return;
            }
            ThreadIdentity.ActAs(caller);
            var r = BrokerFchown(o, hostUid.Value, hostGid.Value);
            ThreadIdentity.BeRoot();
            if (r == -Errors.EPERM && caller.Has(Caller.CAP_CHOWN) && OwnedInside(o))
                r = BrokerFchown(o, hostUid.Value, hostGid.Value);
            c.Result(r);
        }
        finally
        {
            close(o);
        }
    }

    void Truncate(Call c, ulong pathAddress, long length)
    {
        var o = ResolveForChange(c, AT_FDCWD, pathAddress, follow: true);
        if (o < 0)
            return;
        try
        {
            if (c.Caller is not { } caller)
            {
                c.Fail(Errors.ESRCH);
                return;
            }
            var path = stackalloc byte[40];
            WriteProcFdPath(path, o);
            ThreadIdentity.ActAs(caller);
            var n = BrokerOpenat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
            ThreadIdentity.BeRoot();
            if (n < 0 && RetryWithCapability(n, caller, o))
                n = BrokerOpenat(AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
            if (n < 0)
            {
                c.Fail(-n);
                return;
            }
            var r = BrokerFtruncate(n, length);
            close(n);
            c.Result(r);
        }
        finally
        {
            close(o);
        }
    }
}
