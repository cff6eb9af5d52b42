using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Files, directories and descriptors.</summary>
public static unsafe partial class Libc
{
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100,
        O_TRUNC = 0x200, O_APPEND = 0x400, O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000,
        O_CLOEXEC = 0x80000, O_PATH = 0x200000;
    public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EMPTY_PATH = 0x1000;
    public const int F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, FD_CLOEXEC = 1;
    public const uint S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFBLK = 0x6000, S_IFREG = 0x8000,
        S_IFIFO = 0x1000, S_IFLNK = 0xA000, S_IFSOCK = 0xC000;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int openat(int dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int dup3(int oldfd, int newfd, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdirat(int dirfd, string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mknodat(int dirfd, string path, uint mode, ulong dev);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkfifo(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int symlinkat(string target, int dirfd, string linkpath);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int unlinkat(int dirfd, string path, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int fchownat(int dirfd, string path, uint owner, uint group, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fchown(int fd, uint owner, uint group);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fchmod(int fd, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chdir(string path);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fchdir(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chroot(string path);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial uint umask(uint mask);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int flock(int fd, int operation);
    public const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);
    public const uint MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    public const int F_ADD_SEALS = 1033, F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendfile(int outFd, int inFd, long* offset, nint count);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);
    const uint STATX_TYPE = 1, STATX_MODE = 2, STATX_UID = 8, STATX_GID = 0x10;

    /// <summary>
    /// Type and permission bits, owner and group of a path, not following a final symlink. statx's
    /// struct is the same on every architecture (uid at 20, gid at 24, mode at 28), unlike struct stat.
    /// </summary>
    public static (uint Mode, uint Uid, uint Gid) LStat(string path)
    {
        var buffer = stackalloc byte[256];
        Errors.Check(statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID, buffer), "statx", path);
        return (*(ushort*)(buffer + 28), *(uint*)(buffer + 20), *(uint*)(buffer + 24));
    }

    /// <summary>Type and permission bits, owner and group of a path, following symlinks; null when it cannot be stat'ed (missing, dangling, no access).</summary>
    public static (uint Mode, uint Uid, uint Gid)? TryStat(string path)
    {
        var buffer = stackalloc byte[256];
        if (statx(AT_FDCWD, path, 0, STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID, buffer) != 0) return null;
        return (*(ushort*)(buffer + 28), *(uint*)(buffer + 20), *(uint*)(buffer + 24));
    }

    /// <summary>The type and permission bits of a path, following symlinks; null when it cannot be stat'ed (missing, dangling, no access).</summary>
    public static uint? TryStatMode(string path)
    {
        var buffer = stackalloc byte[256];
        return statx(AT_FDCWD, path, 0, STATX_TYPE | STATX_MODE, buffer) == 0 ? *(ushort*)(buffer + 28) : null;
    }

    public static FileDescriptor Open(string path, int flags, uint mode = 0) =>
        new(Errors.Check(Errors.RetryOnEintr(() => open(path, flags | O_CLOEXEC, mode)), "open", path));

    public static FileDescriptor OpenAt(FileDescriptor dir, string path, int flags, uint mode = 0) =>
        new(Errors.Check(Errors.RetryOnEintr(() => openat(dir.Fd, path, flags | O_CLOEXEC, mode)), "open", path));

    /// <summary>Writes the whole buffer, retrying short writes and EINTR.</summary>
    public static void WriteAll(int fd, ReadOnlySpan<byte> data, string what)
    {
        fixed (byte* p = data)
        {
            nint done = 0;
            while (done < data.Length)
            {
                var n = write(fd, p + done, data.Length - done);
                if (n < 0)
                {
                    if (Errors.LastErrno == Errors.EINTR)
                        continue;
                    throw new SyscallException("write", Errors.LastErrno, what);
                }
                done += n;
            }
        }
    }

    /// <summary>Reads up to buffer.Length bytes; 0 at end of file.</summary>
    public static int Read(int fd, Span<byte> buffer, string what)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = read(fd, p, buffer.Length);
                if (n >= 0)
                    return (int)n;
                if (Errors.LastErrno != Errors.EINTR)
                    throw new SyscallException("read", Errors.LastErrno, what);
            }
        }
    }

    /// <summary>
    /// A whole file read with open, read and close, or null when it does not exist. For the small
    /// files of the start path (state.json, /proc, cgroupfs): FileStream's share emulation adds an
    /// flock and two fstat calls to every read, and its buffers come on top.
    /// </summary>
    public static byte[]? TryReadFile(string path)
    {
        var fd = Errors.RetryOnEintr(() => open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC, 0));
        if (fd < 0)
        {
            var errno = Errors.LastErrno;
            if (errno == Errors.ENOENT)
                return null;
            throw new SyscallException("open", errno, path);
        }
        try
        {
            // Most of these files fit one page: read into the stack and allocate only what was read.
            Span<byte> page = stackalloc byte[4096];
            var length = 0;
            int n;
            while (length < page.Length && (n = Read(fd, page[length..], path)) > 0)
                length += n;
            if (length < page.Length)
                return page[..length].ToArray();
            var buffer = new byte[2 * page.Length];
            page.CopyTo(buffer);
            while (true)
            {
                if (length == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2);
                n = Read(fd, buffer.AsSpan(length), path);
                if (n == 0)
                    return buffer.AsSpan(0, length).ToArray();
                length += n;
            }
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary><see cref="TryReadFile"/> as UTF-8 text.</summary>
    public static string? TryReadText(string path) =>
        TryReadFile(path) is { } bytes ? System.Text.Encoding.UTF8.GetString(bytes) : null;

    /// <summary>Writes a small file in one write(2), as kernel interface files (procfs, cgroupfs) expect.</summary>
    public static void WriteFile(string path, string content)
    {
        using var fd = Open(path, O_WRONLY | O_NOCTTY);
        WriteAll(fd.Fd, System.Text.Encoding.UTF8.GetBytes(content), path);
    }

    public static void SetCloseOnExec(int fd, bool on)
    {
        var flags = Errors.Check(fcntl(fd, F_GETFD, 0), "fcntl F_GETFD");
        Errors.Check(fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC), "fcntl F_SETFD");
    }
}

public static unsafe partial class Libc
{
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rmdir(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int access(string path, int mode);
    public const int X_OK = 1, W_OK = 2;
}

public static unsafe partial class Libc
{
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint readlinkat(int dirfd, string path, byte* buffer, nint size);

    /// <summary>The target of a symlink opened with O_PATH|O_NOFOLLOW, or null when it is not a symlink.</summary>
    public static string? ReadLinkOf(FileDescriptor fd)
    {
        var buffer = stackalloc byte[4096];
        var n = readlinkat(fd.Fd, "", buffer, 4096);
        if (n < 0)
        {
            if (Errors.LastErrno is Errors.EINVAL or Errors.ENOENT)
                return null;
            throw new SyscallException("readlink", Errors.LastErrno);
        }
        return System.Text.Encoding.UTF8.GetString(buffer, (int)n);
    }

    /// <summary>The target of the symlink at path (one readlink), or null when it is none or cannot be read.</summary>
    public static string? TryReadLink(string path)
    {
        var buffer = stackalloc byte[256];
        var n = readlinkat(AT_FDCWD, path, buffer, 256);
        return n < 0 || n == 256 ? null : System.Text.Encoding.UTF8.GetString(buffer, (int)n);
    }
}

public static unsafe partial class Libc
{
    [LibraryImport("libc", SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    /// <summary>A close-on-exec pipe: (read end, write end).</summary>
    public static (FileDescriptor Read, FileDescriptor Write) Pipe()
    {
        var fds = stackalloc int[2];
        Errors.Check(pipe2(fds, O_CLOEXEC), "pipe2");
        return (new FileDescriptor(fds[0]), new FileDescriptor(fds[1]));
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint pread(int fd, byte* buf, nint count, long offset);
}

public static unsafe partial class Libc
{
    const uint STATX_INO = 0x100, STATX_SIZE = 0x200;

    /// <summary>
    /// The inode number and size of a path (following symlinks), or null when it cannot be stat'ed: a
    /// reader following a file that is renamed away and replaced (log rotation) tells the two apart by inode.
    /// </summary>
    public static (ulong Inode, long Size)? TryIdentity(string path)
    {
        var buffer = stackalloc byte[256];
        if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_SIZE, buffer) != 0)
            return null;
        return (*(ulong*)(buffer + 32), (long)*(ulong*)(buffer + 40));
    }

    /// <summary>The inode number and size of an open descriptor.</summary>
    public static (ulong Inode, long Size) Identity(int fd)
    {
        var buffer = stackalloc byte[256];
        Errors.Check(statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_SIZE, buffer), "statx");
        return (*(ulong*)(buffer + 32), (long)*(ulong*)(buffer + 40));
    }
}
