using Moat.Interop;

namespace Moat.Engine.Copy;

/// <summary>
/// docker cp's semantics between two <see cref="CopyRoot"/>s: a file to a file or into a directory, a
/// directory to a new path or into an existing directory (`SRC/.`: its contents), merging into what is there;
/// modes and modification times kept; owners per docker's rule (the destination's root user, the caller on
/// the host, or with <c>archive</c> the source's ids, shifted between user namespaces). Symlinks are copied
/// as symlinks, never followed (the source's final one with <c>followLink</c>, inside its root). Every path
/// is resolved by <see cref="CopyRoot"/>; below the first level each step is one name opened with O_NOFOLLOW
/// from its parent's descriptor, so nothing a container changes meanwhile can redirect the copy.
/// </summary>
public sealed class TreeCopier
{
    const int PathOnly = Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;
    const int DirectoryRead = Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;

    readonly CopyRoot from, to;
    readonly bool archive;
    readonly uint callerUid = Libc.geteuid(), callerGid = Libc.getegid();
    readonly byte[] buffer = new byte[1 << 20];
    bool copyRangeFailed;

    TreeCopier(CopyRoot from, CopyRoot to, bool archive)
    {
        this.from = from;
        this.to = to;
        this.archive = archive;
    }

    /// <summary>Copies <paramref name="source"/> (in <paramref name="from"/>) to <paramref name="destination"/> (in <paramref name="to"/>) as `docker cp` does.</summary>
    public static void Copy(CopyRoot from, string source, CopyRoot to, string destination, bool archive, bool followLink)
    {
        var copier = new TreeCopier(from, to, archive);
        copier.Run(source, destination, followLink);
    }

    void Run(string source, string destination, bool followLink)
    {
        var contentsOnly = source.EndsWith("/.", StringComparison.Ordinal) || from.Relative(source) == ".";
        var sourceRelative = from.Relative(source);
        var fd = from.TryOpen(sourceRelative, followLink ? Libc.O_PATH : Libc.O_PATH | Libc.O_NOFOLLOW, out var errno);
        if (fd < 0)
            throw errno is Errors.ENOENT or Errors.ENOTDIR
                ? new EngineException($"{source} does not exist in {from.Display}")
                : from.Refused(source, errno);
        using var sourceFd = new FileDescriptor(fd);
        var status = Libc.StatOf(sourceFd.Fd, source);
        var trimmed = contentsOnly && sourceRelative.EndsWith("/.", StringComparison.Ordinal) ? sourceRelative[..^2] : sourceRelative;
        var name = Path.GetFileName(trimmed.TrimEnd('/'));
        if (contentsOnly && !status.IsDirectory)
            throw new EngineException($"{source} in {from.Display} is not a directory");

        var destinationRelative = to.Relative(destination);
        var mustBeDirectory = destination.EndsWith('/') || destination.EndsWith("/.", StringComparison.Ordinal);
        using var existingDirectory = to.Directory(destinationRelative, destination);
        if (existingDirectory is not null)
        {
            if (status.IsDirectory && contentsOnly)
            {
                CopyContents(sourceFd, existingDirectory, destination);
                return;
            }
            CopyEntry(sourceFd, status, existingDirectory, name, destination.TrimEnd('/') + "/" + name);
            return;
        }
        if (mustBeDirectory)
            throw new EngineException($"the directory {destination} does not exist in {to.Display}");
        var parentRelative = Path.GetDirectoryName("/" + destinationRelative.TrimEnd('/'))!.TrimStart('/');
        using var parent = to.Directory(parentRelative.Length == 0 ? "." : parentRelative, destination)
            ?? throw new EngineException($"the directory that would hold {destination} does not exist in {to.Display}");
        var targetName = Path.GetFileName(destinationRelative.TrimEnd('/'));
        if (status.IsDirectory && Libc.TryStatAt(parent.Fd, targetName) is { IsDirectory: false })
            throw new EngineException($"cannot copy the directory {source} to {destination}, a file in {to.Display}");
        CopyEntry(sourceFd, status, parent, targetName, destination);
    }

    /// <summary>One entry (its O_PATH descriptor) to <paramref name="name"/> in the directory <paramref name="parent"/>.</summary>
    void CopyEntry(FileDescriptor source, FileStatus status, FileDescriptor parent, string name, string shown)
    {
        var existing = Libc.TryStatAt(parent.Fd, name);
        if (existing is { IsDirectory: true } && !status.IsDirectory)
            throw new EngineException($"cannot replace the directory {shown} in {to.Display} with a file");
        if (existing is { IsDirectory: false })
            Errors.Check(Libc.unlinkat(parent.Fd, name, 0), "unlink", shown);
        var (uid, gid) = Owner(status);
        switch (status.Type)
        {
            case Libc.S_IFDIR:
                if (existing is not { IsDirectory: true })
                    Errors.Check(Libc.mkdirat(parent.Fd, name, 0b111_000_000), "mkdir", shown);
                using (var target = new FileDescriptor(Errors.Check(Libc.openat(parent.Fd, name, DirectoryRead, 0), "open", shown)))
                {
                    CopyContents(source, target, shown);
                    // Owner before mode (chown clears setuid/setgid), times last (the children changed them).
                    Errors.Check(Libc.fchown(target.Fd, uid, gid), "chown", shown);
                    Errors.Check(Libc.fchmod(target.Fd, status.Mode & 0xFFF), "chmod", shown);
                    Libc.SetTimes(target.Fd, status.AccessSeconds, status.AccessNanoseconds, status.ModifySeconds, status.ModifyNanoseconds, shown);
                }
                break;
            case Libc.S_IFREG:
                using (var reader = Reopen(source, Libc.O_RDONLY, shown))
                using (var target = new FileDescriptor(Errors.Check(Libc.openat(parent.Fd, name, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0b110_000_000), "create", shown)))
                {
                    CopyData(reader.Fd, target.Fd, shown);
                    Errors.Check(Libc.fchown(target.Fd, uid, gid), "chown", shown);
                    Errors.Check(Libc.fchmod(target.Fd, status.Mode & 0xFFF), "chmod", shown);
                    Libc.SetTimes(target.Fd, status.AccessSeconds, status.AccessNanoseconds, status.ModifySeconds, status.ModifyNanoseconds, shown);
                }
                break;
            case Libc.S_IFLNK:
                var link = Libc.ReadLinkOf(source) ?? throw new EngineException($"{shown}: the symlink changed while it was copied");
                Errors.Check(Libc.symlinkat(link, parent.Fd, name), "symlink", shown);
                Errors.Check(Libc.fchownat(parent.Fd, name, uid, gid, Libc.AT_SYMLINK_NOFOLLOW), "chown", shown);
                Libc.SetTimesAt(parent.Fd, name, status.AccessSeconds, status.AccessNanoseconds, status.ModifySeconds, status.ModifyNanoseconds);
                break;
            case Libc.S_IFSOCK:
                return; // a socket is a live endpoint, not content (tar skips it too)
            default:
                Errors.Check(Libc.mknodat(parent.Fd, name, status.Type | (status.Mode & 0x1FF), Libc.MakeDevice(status.RdevMajor, status.RdevMinor)), "mknod", shown);
                Errors.Check(Libc.fchownat(parent.Fd, name, uid, gid, Libc.AT_SYMLINK_NOFOLLOW), "chown", shown);
                Errors.Check(Libc.fchmodat(parent.Fd, name, status.Mode & 0xFFF, 0), "chmod", shown);
                Libc.SetTimesAt(parent.Fd, name, status.AccessSeconds, status.AccessNanoseconds, status.ModifySeconds, status.ModifyNanoseconds);
                break;
        }
    }

    void CopyContents(FileDescriptor sourceDirectory, FileDescriptor target, string shown)
    {
        using var listing = Reopen(sourceDirectory, Libc.O_RDONLY | Libc.O_DIRECTORY, shown);
        foreach (var (name, _) in Libc.ListDirectory(listing.Fd, shown))
        {
            var fd = Libc.openat(listing.Fd, name, PathOnly, 0);
            if (fd < 0)
            {
                if (Errors.LastErrno == Errors.ENOENT) continue; // gone since listed
                throw new SyscallException("open", Errors.LastErrno, shown + "/" + name);
            }
            using var child = new FileDescriptor(fd);
            CopyEntry(child, Libc.StatOf(child.Fd, name), target, name, shown.TrimEnd('/') + "/" + name);
        }
    }

    /// <summary>A readable descriptor for an O_PATH one: "." of a directory, or the file through our own /proc/self/fd (the entry itself, no path walked again).</summary>
    static FileDescriptor Reopen(FileDescriptor path, int flags, string shown) =>
        (flags & Libc.O_DIRECTORY) != 0
            ? new FileDescriptor(Errors.Check(Libc.openat(path.Fd, ".", flags | Libc.O_CLOEXEC, 0), "open", shown))
            : new FileDescriptor(Errors.Check(Libc.open($"/proc/self/fd/{path.Fd}", flags | Libc.O_CLOEXEC, 0), "open", shown));

    /// <summary>
    /// docker's owners: into a container, its root user (or with archive the source's ids as the container
    /// sees them); onto the host, the caller (or with archive the source's ids, the container's shifted back).
    /// </summary>
    (uint Uid, uint Gid) Owner(FileStatus status)
    {
        if (!archive)
            return to.IsContainer ? (to.RootUid, to.RootGid) : (callerUid, callerGid);
        var uid = from.IsContainer && status.Uid >= from.RootUid ? status.Uid - from.RootUid : status.Uid;
        var gid = from.IsContainer && status.Gid >= from.RootGid ? status.Gid - from.RootGid : status.Gid;
        return to.IsContainer ? (uid + to.RootUid, gid + to.RootGid) : (uid, gid);
    }

    unsafe void CopyData(int source, int target, string shown)
    {
        if (!copyRangeFailed)
        {
            var first = true;
            while (true)
            {
                var n = Libc.copy_file_range(source, null, target, null, 1 << 30, 0);
                if (n > 0) { first = false; continue; }
                if (n == 0) return;
                if (Errors.LastErrno == Errors.EINTR) continue;
                if (first && Errors.LastErrno is Errors.EXDEV or Errors.EINVAL or Errors.ENOSYS or Errors.EOPNOTSUPP)
                {
                    copyRangeFailed = true; // not between these filesystems: plain reads from now on
                    break;
                }
                throw new SyscallException("copy_file_range", Errors.LastErrno, shown);
            }
        }
        int read;
        while ((read = Libc.Read(source, buffer, shown)) > 0)
            Libc.WriteAll(target, buffer.AsSpan(0, read), shown);
    }
}
