using Moat.Interop;

namespace Moat.Runtime.Rootfs;

/// <summary>
/// Paths resolved inside the container's root with openat2(RESOLVE_IN_ROOT): a symlink in the image
/// (even "../../../etc") resolves as if the root were "/", so a mount can never land on the host.
/// Owns the root's descriptor.
/// </summary>
public sealed class RootPath(FileDescriptor root, string rootPath) : IRootDirectory
{
    const ulong Resolve = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;

    public FileDescriptor Root { get; } = root;
    public string HostPath { get; } = rootPath;

    /// <summary>Opens an existing path (O_PATH) or returns null when a component is missing.</summary>
    public FileDescriptor? TryOpen(string path)
    {
        var fd = Libc.openat2(Root.Fd, Relative(path), (ulong)(Libc.O_PATH | Libc.O_CLOEXEC), 0, Resolve);
        if (fd >= 0)
            return new FileDescriptor(fd);
        var errno = Errors.LastErrno;
        if (errno == Errors.ENOENT)
            return null;
        throw new SyscallException("openat2", errno, $"{path} in {HostPath}");
    }

    /// <summary>
    /// Opens the path, creating what is missing (directories, and the last component as a file if
    /// asked). Symlinks met on the way are followed by hand, inside the root: a dangling link to
    /// "/x" leads to creating "x" under the rootfs, never on the host.
    /// </summary>
    public FileDescriptor OpenOrCreate(string path, bool lastIsFile, uint dirMode = 0x1ed /* 0755 */)
    {
        if (TryOpen(path) is { } existing)
            return existing;
        var pending = new LinkedList<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var resolved = new List<string>();
        var links = 0;
        while (pending.First is { } node)
        {
            pending.RemoveFirst();
            var part = node.Value;
            if (part == ".")
                continue;
            if (part == "..")
            {
                if (resolved.Count > 0)
                    resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            var candidate = "/" + string.Join('/', resolved.Append(part));
            using (var probe = TryOpenNoFollow(candidate))
            {
                if (probe is not null)
                {
                    if (Libc.ReadLinkOf(probe) is { } target)
                    {
                        if (++links > 40)
                            throw new SyscallException("resolve", Errors.ELOOP, $"{path} in {HostPath}");
                        if (target.StartsWith('/'))
                            resolved.Clear();
                        foreach (var t in Enumerable.Reverse(target.Split('/', StringSplitOptions.RemoveEmptyEntries)))
                            pending.AddFirst(t);
                        continue;
                    }
                    resolved.Add(part);
                    continue;
                }
            }
            // Missing: create it in its (symlink-free, resolved-in-root) parent, never following a link.
            using var parent = OpenDirectory(resolved.Count == 0 ? "/" : "/" + string.Join('/', resolved));
            if (pending.Count == 0 && lastIsFile)
            {
                var fd = Libc.openat(parent.Fd, part, Libc.O_CREAT | Libc.O_EXCL | Libc.O_WRONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0x1a4 /* 0644 */);
                if (fd < 0 && Errors.LastErrno != Errors.EEXIST)
                    throw new SyscallException("create", Errors.LastErrno, $"{candidate} in {HostPath}");
                if (fd >= 0)
                    Libc.close(fd);
            }
            else if (Libc.mkdirat(parent.Fd, part, dirMode) < 0 && Errors.LastErrno != Errors.EEXIST)
                throw new SyscallException("mkdir", Errors.LastErrno, $"{candidate} in {HostPath}");
            resolved.Add(part);
        }
        var final = "/" + string.Join('/', resolved);
        return TryOpen(final) ?? throw new SyscallException("openat2", Errors.ENOENT, $"{path} in {HostPath}");
    }

    FileDescriptor IRootDirectory.OpenOrCreate(string path, bool lastIsFile) => OpenOrCreate(path, lastIsFile);

    public void Dispose() => Root.Dispose();

    FileDescriptor? TryOpenNoFollow(string path)
    {
        var fd = Libc.openat2(Root.Fd, Relative(path), (ulong)(Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC), 0, Resolve);
        if (fd >= 0)
            return new FileDescriptor(fd);
        if (Errors.LastErrno == Errors.ENOENT)
            return null;
        throw new SyscallException("openat2", Errors.LastErrno, $"{path} in {HostPath}");
    }

    public FileDescriptor OpenDirectory(string path)
    {
        var fd = Libc.openat2(Root.Fd, Relative(path), (ulong)(Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC), 0, Resolve);
        return new FileDescriptor(Errors.Check(fd, "open directory", $"{path} in {HostPath}"));
    }

    /// <summary>The path mount(2) should be given for an opened target: the magic link to exactly that file.</summary>
    public static string ProcPath(FileDescriptor fd) => $"/proc/self/fd/{fd.Fd}";

    static string Relative(string path)
    {
        var trimmed = path.TrimStart('/');
        return trimmed.Length == 0 ? "." : trimmed;
    }
}
