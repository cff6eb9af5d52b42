using Moat.Interop;

namespace Moat.Images.Layers;

/// <summary>
/// A directory that every path operation stays inside: directories are resolved with openat2 and
/// RESOLVE_IN_ROOT, so a symlink (absolute or full of '..') is read as if the directory were '/', and the
/// final component of every change is acted on with an *at call on the resolved parent, never followed.
/// </summary>
internal sealed class RootedDirectory : IDisposable
{
    const ulong InRoot = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;
    const ulong BeneathNoSymlinks = Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_SYMLINKS | Libc.RESOLVE_NO_MAGICLINKS;
    const int PathDirectory = Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC;

    readonly string display;
    // The last parent resolved: layers list a directory's members together, so most lookups hit it.
    string? cachedPath;
    FileDescriptor? cachedFd;

    RootedDirectory(FileDescriptor root, string display)
    {
        Root = root;
        this.display = display;
    }

    public FileDescriptor Root { get; }

    /// <summary>Called with each directory made to hold a member whose parents were missing.</summary>
    public Action<string>? CreatedDirectory { get; set; }

    public static RootedDirectory Open(string path) => new(Libc.Open(path, PathDirectory), path);

    /// <summary>
    /// The directory at <paramref name="path"/>, symlinks followed inside the root. Missing directories are
    /// made (0755) when <paramref name="create"/>; otherwise null. The descriptor is borrowed: do not dispose it.
    /// </summary>
    public int? Directory(string path, bool create, string member)
    {
        if (path.Length == 0)
            return Root.Fd;
        if (cachedPath == path && cachedFd is not null)
            return cachedFd.Fd;
        var fd = Resolve(path, InRoot, out var errno);
        if (fd < 0 && errno == Errors.ENOENT && create)
            fd = CreateDirectories(path, member);
        else if (fd < 0 && errno == Errors.ENOENT)
            return null;
        else if (fd < 0)
            throw Refusal(path, errno, member);
        cachedFd?.Dispose();
        cachedFd = new FileDescriptor(fd);
        cachedPath = path;
        return fd;
    }

    /// <summary>
    /// The directory at path with no symlink anywhere in it (hard link targets: a tar writer records a link
    /// to a member by the path it wrote it under, so a symlink on the way means a crafted archive). Owned by the caller.
    /// </summary>
    public FileDescriptor DirectoryWithoutSymlinks(string path, string member)
    {
        if (path.Length == 0)
            return new FileDescriptor(Root.Fd, ownsHandle: false);
        var fd = Resolve(path, BeneathNoSymlinks, out var errno);
        if (fd >= 0)
            return new FileDescriptor(fd);
        throw errno switch
        {
            Errors.ELOOP => new LayerUnpackException($"the layer's hard link '{member}' points through a symlink ('{path}'); refused"),
            Errors.ENOENT => new LayerUnpackException($"the layer's hard link '{member}' points to '{path}', which is not in the layer"),
            _ => Refusal(path, errno, member),
        };
    }

    int Resolve(string path, ulong resolve, out int errno)
    {
        while (true)
        {
            var fd = Libc.openat2(Root.Fd, path, PathDirectory, 0, resolve);
            errno = fd < 0 ? Errors.LastErrno : 0;
            // EAGAIN: a rename raced the lookup (RESOLVE_IN_ROOT checks for it); try again.
            if (fd >= 0 || errno is not (Errors.EAGAIN or Errors.EINTR))
                return fd;
        }
    }

    int CreateDirectories(string path, string member)
    {
        var parentFd = Root.Fd;
        FileDescriptor? owned = null;
        try
        {
            var index = 0;
            while (true)
            {
                var slash = path.IndexOf('/', index);
                var prefix = slash < 0 ? path : path[..slash];
                var name = slash < 0 ? path[index..] : path[index..slash];
                var fd = Resolve(prefix, InRoot, out var errno);
                if (fd < 0 && errno == Errors.ENOENT)
                {
                    if (Libc.mkdirat(parentFd, name, 0b111_101_101) < 0)
                    {
                        if (Errors.LastErrno == Errors.EEXIST)
                            throw new LayerUnpackException($"the layer's member '{member}' is written through '{prefix}', a symlink to a place that is not in the layer; refused");
                        throw new SyscallException("mkdir", Errors.LastErrno, $"{prefix} in {display}");
                    }
                    Errors.Check(Libc.fchmodat(parentFd, name, 0b111_101_101, 0), "chmod", prefix);
                    CreatedDirectory?.Invoke(prefix);
                    fd = Resolve(prefix, InRoot, out errno);
                }
                if (fd < 0)
                    throw Refusal(prefix, errno, member);
                owned?.Dispose();
                owned = new FileDescriptor(fd);
                parentFd = fd;
                if (slash < 0)
                    return owned.Detach();
                index = slash + 1;
            }
        }
        finally
        {
            owned?.Dispose();
        }
    }

    Exception Refusal(string path, int errno, string member) => errno switch
    {
        Errors.ENOTDIR => new LayerUnpackException($"the layer's member '{member}' needs '{path}' to be a directory, but it is not one"),
        Errors.ELOOP => new LayerUnpackException($"the layer's member '{member}' is reached through too many symlinks at '{path}'"),
        Errors.EXDEV => new LayerUnpackException($"the layer's member '{member}' resolves outside the layer at '{path}'; refused"),
        _ => new SyscallException("openat2", errno, $"{path} in {display}"),
    };

    /// <summary>Forgets the cached parent: after a removal, a cached path may name something else.</summary>
    public void Invalidate()
    {
        cachedFd?.Dispose();
        cachedFd = null;
        cachedPath = null;
    }

    /// <summary>
    /// Removes name in dirfd and, for a directory, everything under it, without following any symlink and
    /// without crossing into another filesystem (a mount left inside is refused, not emptied).
    /// </summary>
    public static void RemoveTree(int dirfd, string name)
    {
        if (Libc.unlinkat(dirfd, name, 0) == 0)
            return;
        var errno = Errors.LastErrno;
        if (errno == Errors.ENOENT)
            return;
        if (errno != Errors.EISDIR)
            throw new SyscallException("unlink", errno, name);
        var parent = Libc.StatOf(dirfd, name);
        RemoveDirectory(dirfd, name, (parent.DeviceMajor, parent.DeviceMinor));
    }

    static void RemoveDirectory(int dirfd, string name, (uint, uint) device)
    {
        var fd = Libc.openat(dirfd, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        if (fd < 0 && Errors.LastErrno == Errors.EACCES)
        {
            // Rootless: a directory the layer made unreadable is still ours to open up and empty.
            Errors.Check(Libc.fchmodat(dirfd, name, 0b111_000_000, 0), "chmod", name);
            fd = Libc.openat(dirfd, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
        }
        using (var child = new FileDescriptor(Errors.Check(fd, "open", name)))
        {
            var status = Libc.StatOf(child.Fd, name);
            if ((status.DeviceMajor, status.DeviceMinor) != device)
                throw new IOException($"refusing to remove '{name}': another filesystem is mounted there");
            foreach (var (entry, type) in Libc.ListDirectory(child.Fd, name))
            {
                if (type != Libc.DT_DIR && Libc.unlinkat(child.Fd, entry, 0) == 0)
                    continue;
                if (type != Libc.DT_DIR && Errors.LastErrno == Errors.ENOENT)
                    continue;
                if (type != Libc.DT_DIR && Errors.LastErrno != Errors.EISDIR)
                    throw new SyscallException("unlink", Errors.LastErrno, entry);
                RemoveDirectory(child.Fd, entry, device);
            }
        }
        if (Libc.unlinkat(dirfd, name, Libc.AT_REMOVEDIR) < 0 && Errors.LastErrno != Errors.ENOENT)
            throw new SyscallException("rmdir", Errors.LastErrno, name);
    }

    /// <summary>Removes a whole directory tree by path (temp dirs, snapshots); absent is fine.</summary>
    public static void RemoveTree(string path)
    {
        var full = Path.GetFullPath(path);
        var parent = Path.GetDirectoryName(full) ?? "/";
        var fd = Libc.open(parent, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0 && Errors.LastErrno == Errors.ENOENT)
            return;
        using var parentFd = new FileDescriptor(Errors.Check(fd, "open", parent));
        RemoveTree(parentFd.Fd, Path.GetFileName(full));
    }

    public void Dispose()
    {
        Invalidate();
        Root.Dispose();
    }
}
