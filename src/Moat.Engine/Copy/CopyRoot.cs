using Moat.Interop;

namespace Moat.Engine.Copy;

/// <summary>
/// One side of a copy: a directory every path is resolved from. For a container it is the container's root
/// (the running init's /proc/PID/root, or the mounted layer of a stopped one) and paths are resolved with
/// openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, so neither an absolute symlink, nor "..", nor a
/// /proc/PID/root-style magic link in the container can lead outside it. For the host it is "/" with the
/// ordinary rules. The final component of anything changed is acted on with an *at call on its resolved
/// parent and is never followed.
/// </summary>
public sealed class CopyRoot : IDisposable
{
    const int PathDirectory = Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC;

    readonly ulong resolve;

    CopyRoot(FileDescriptor root, ulong resolve, string display, uint rootUid, uint rootGid)
    {
        Root = root;
        this.resolve = resolve;
        Display = display;
        RootUid = rootUid;
        RootGid = rootGid;
    }

    public FileDescriptor Root { get; }
    /// <summary>How errors name this side: "container web" or "the host".</summary>
    public string Display { get; }
    /// <summary>Host ids of this side's root user (a user-namespaced container's root is not the host's).</summary>
    public uint RootUid { get; }
    public uint RootGid { get; }
    public bool IsContainer => resolve != 0;

    public static CopyRoot Host() => new(Libc.Open("/", PathDirectory), 0, "the host", 0, 0);

    /// <summary>A container's root directory; its owner is the container's root user as the host sees it.</summary>
    public static CopyRoot Container(string rootDirectory, string name)
    {
        var fd = Libc.Open(rootDirectory, PathDirectory);
        var status = Libc.StatOf(fd.Fd, rootDirectory);
        return new CopyRoot(fd, Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS, $"container {name}", status.Uid, status.Gid);
    }

    /// <summary>A path relative to the root ("." for the root itself); the host's relative paths are the working directory's.</summary>
    public string Relative(string path)
    {
        if (!IsContainer)
            path = Path.GetFullPath(path);
        var relative = path.TrimStart('/');
        return relative.Length == 0 ? "." : relative;
    }

    /// <summary>openat2 from the root; the errno on failure.</summary>
    public int TryOpen(string relative, int flags, out int errno)
    {
        var fd = Libc.openat2(Root.Fd, relative, (ulong)(flags | Libc.O_CLOEXEC), 0, resolve);
        errno = fd < 0 ? Errors.LastErrno : 0;
        return fd;
    }

    /// <summary>The directory at <paramref name="relative"/> (symlinks followed inside the root), or null when it does not exist.</summary>
    public FileDescriptor? Directory(string relative, string shown)
    {
        var fd = TryOpen(relative, PathDirectory, out var errno);
        if (fd >= 0)
            return new FileDescriptor(fd);
        if (errno is Errors.ENOENT or Errors.ENOTDIR)
            return null;
        throw Refused(shown, errno);
    }

    public EngineException Refused(string shown, int errno) => errno switch
    {
        Errors.EXDEV or Errors.ELOOP => new EngineException($"{shown} in {Display} leads through a link that cannot be followed safely"),
        _ => new EngineException($"cannot open {shown} in {Display}: {new SyscallException("openat2", errno, shown).Message}"),
    };

    public void Dispose() => Root.Dispose();
}
