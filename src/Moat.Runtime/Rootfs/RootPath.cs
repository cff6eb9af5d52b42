using Moat.Interop;

namespace Moat.Runtime.Rootfs;

/// <summary>
/// Paths resolved inside the container's root with openat2(RESOLVE_IN_ROOT): a symlink in the image
/// (even "../../../etc") resolves as if the root were "/", so a mount can never land on the host.
/// </summary>
public sealed class RootPath(FileDescriptor root, string rootPath)
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

    /// <summary>Opens the path, creating missing directories (and the last one as a file if asked).</summary>
    public FileDescriptor OpenOrCreate(string path, bool lastIsFile, uint dirMode = 0x1ed /* 0755 */)
    {
        if (TryOpen(path) is { } existing)
            return existing;
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = "";
        for (var i = 0; i < parts.Length; i++)
        {
            var parentPath = current;
            current += "/" + parts[i];
            using var probe = TryOpen(current);
            if (probe is not null)
                continue;
            // The parent exists (resolved inside the root); create the component relative to it,
            // never following a symlink at the last step.
            using var parent = OpenDirectory(parentPath.Length == 0 ? "/" : parentPath);
            var isLast = i == parts.Length - 1;
            if (isLast && lastIsFile)
            {
                var fd = Libc.openat(parent.Fd, parts[i], Libc.O_CREAT | Libc.O_EXCL | Libc.O_WRONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0x1a4 /* 0644 */);
                if (fd < 0 && Errors.LastErrno != Errors.EEXIST)
                    throw new SyscallException("create", Errors.LastErrno, $"{current} in {HostPath}");
                if (fd >= 0)
                    Libc.close(fd);
            }
            else if (Libc.mkdirat(parent.Fd, parts[i], dirMode) < 0 && Errors.LastErrno != Errors.EEXIST)
                throw new SyscallException("mkdir", Errors.LastErrno, $"{current} in {HostPath}");
        }
        return TryOpen(path) ?? throw new SyscallException("openat2", Errors.ENOENT, $"{path} in {HostPath}");
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
