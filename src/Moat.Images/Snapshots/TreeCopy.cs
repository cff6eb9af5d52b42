using Moat.Interop;

namespace Moat.Images.Snapshots;

/// <summary>
/// Copies a directory tree with everything a root filesystem needs kept: owners, modes (setuid included),
/// xattrs, hard links, symlinks, device nodes and times. File data is shared (FICLONE) where the filesystem
/// can, else copied in the kernel (copy_file_range), else read and written. No symlink is ever followed.
/// </summary>
public static class TreeCopy
{
    const int DirectoryFlags = Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;

    /// <summary>
    /// Copies the contents of <paramref name="source"/> into <paramref name="destination"/> (made if missing)
    /// and the root's metadata too. <paramref name="owner"/> turns each source (uid, gid) into the copy's:
    /// a tree seen through an idmapped mount is stored with the ids it has on disk.
    /// </summary>
    public static void Copy(string source, string destination, Func<(uint Uid, uint Gid), (uint Uid, uint Gid)>? owner = null)
    {
        Directory.CreateDirectory(destination);
        using var from = Libc.Open(source, DirectoryFlags);
        using var to = Libc.Open(destination, DirectoryFlags);
        var state = new CopyState(to.Fd, owner ?? (ids => ids));
        CopyContents(from.Fd, to.Fd, "", state);
        var status = Libc.StatOf(from.Fd, source);
        CopyMetadata(from.Fd, ".", to.Fd, ".", status, source, state);
    }

    sealed class CopyState(int destinationRoot, Func<(uint Uid, uint Gid), (uint Uid, uint Gid)> owner)
    {
        public readonly int DestinationRoot = destinationRoot;
        public readonly Func<(uint Uid, uint Gid), (uint Uid, uint Gid)> Owner = owner;
        // Files with several links: inode → the path the first was copied to, so the rest become links again.
        public readonly Dictionary<ulong, string> Linked = [];
        public readonly byte[] Buffer = new byte[1 << 20];
        public bool CloneFailed, CopyRangeFailed;
    }

    static void CopyContents(int from, int to, string relative, CopyState state)
    {
        foreach (var (name, _) in Libc.ListDirectory(from, relative))
        {
            var path = relative.Length == 0 ? name : relative + "/" + name;
            if (Libc.TryStatAt(from, name) is not { } status)
                continue; // gone since listed
            switch (status.Type)
            {
                case Libc.S_IFDIR:
                    Errors.Check(Libc.mkdirat(to, name, 0b111_000_000), "mkdir", path);
                    using (var subFrom = Libc.OpenAt(new FileDescriptor(from, false), name, DirectoryFlags))
                    using (var subTo = Libc.OpenAt(new FileDescriptor(to, false), name, DirectoryFlags))
                        CopyContents(subFrom.Fd, subTo.Fd, path, state);
                    break;
                case Libc.S_IFREG:
                    if (status.LinkCount > 1 && state.Linked.TryGetValue(status.Inode, out var first))
                    {
                        Errors.Check(Libc.linkat(state.DestinationRoot, first, to, name, 0), "link", path);
                        continue; // a link shares the first copy's metadata
                    }
                    CopyFile(from, to, name, path, status, state);
                    if (status.LinkCount > 1)
                        state.Linked[status.Inode] = path;
                    break;
                case Libc.S_IFLNK:
                    Errors.Check(Libc.symlinkat(Libc.ReadLinkAt(from, name), to, name), "symlink", path);
                    break;
                default:
                    Errors.Check(Libc.mknodat(to, name, status.Type | (status.Mode & 0x1FF), Libc.MakeDevice(status.RdevMajor, status.RdevMinor)), "mknod", path);
                    break;
            }
            if (status.Type != Libc.S_IFREG)
                CopyMetadata(from, name, to, name, status, path, state);
        }
    }

    static void CopyFile(int from, int to, string name, string path, FileStatus status, CopyState state)
    {
        using var source = new FileDescriptor(Errors.Check(Libc.openat(from, name, Libc.O_RDONLY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0), "open", path));
        using var target = new FileDescriptor(Errors.Check(Libc.openat(to, name, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0b110_000_000), "create", path));
        if (status.Size > 0)
            CopyData(source.Fd, target.Fd, (long)status.Size, path, state);
        // Owner before mode (chown clears setuid), xattrs after both (chown clears file capabilities).
        var (uid, gid) = state.Owner((status.Uid, status.Gid));
        Errors.Check(Libc.fchown(target.Fd, uid, gid), "chown", path);
        Errors.Check(Libc.fchmod(target.Fd, status.Mode & 0xFFF), "chmod", path);
        foreach (var (xattr, value) in Libc.ListXattrs(source.Fd, path))
            Libc.SetXattr(target.Fd, xattr, value, path);
        Libc.SetTimes(target.Fd, status.AccessSeconds, status.AccessNanoseconds, status.ModifySeconds, status.ModifyNanoseconds, path);
    }

    static unsafe void CopyData(int source, int target, long size, string path, CopyState state)
    {
        if (!state.CloneFailed)
        {
            if (Libc.ioctl(target, Libc.FICLONE, source) == 0)
                return;
            state.CloneFailed = true; // not this filesystem: stop asking
        }
        long copied = 0;
        if (!state.CopyRangeFailed)
        {
            while (copied < size)
            {
                var n = Libc.copy_file_range(source, null, target, null, (nint)Math.Min(size - copied, 1L << 30), 0);
                if (n > 0)
                {
                    copied += n;
                    continue;
                }
                if (n == 0)
                    break; // the file shrank
                if (Errors.LastErrno == Errors.EINTR)
                    continue;
                if (copied == 0 && Errors.LastErrno is Errors.EXDEV or Errors.EINVAL or Errors.ENOSYS or Errors.EOPNOTSUPP)
                {
                    state.CopyRangeFailed = true;
                    break;
                }
                throw new SyscallException("copy_file_range", Errors.LastErrno, path);
            }
            if (!state.CopyRangeFailed)
                return;
        }
        int read;
        while ((read = Libc.Read(source, state.Buffer, path)) > 0)
            Libc.WriteAll(target, state.Buffer.AsSpan(0, read), path);
    }

    static void CopyMetadata(int fromDir, string fromName, int toDir, string toName, FileStatus status, string path, CopyState state)
    {
        var (uid, gid) = state.Owner((status.Uid, status.Gid));
        Errors.Check(Libc.fchownat(toDir, toName, uid, gid, Libc.AT_SYMLINK_NOFOLLOW), "chown", path);
        if (status.Type != Libc.S_IFLNK)
            Errors.Check(Libc.fchmodat(toDir, toName, status.Mode & 0xFFF, 0), "chmod", path);
        foreach (var (xattr, value) in Libc.ListXattrs($"/proc/self/fd/{fromDir}/{fromName}"))
        {
            var errno = Libc.TrySetXattrAt(toDir, toName, xattr, value);
            if (errno != 0)
                throw new SyscallException("setxattr " + xattr, errno, path);
        }
        Libc.SetTimesAt(toDir, toName, status.AccessSeconds, status.AccessNanoseconds, status.ModifySeconds, status.ModifyNanoseconds);
    }
}
