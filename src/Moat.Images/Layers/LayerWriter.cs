using System.Text;
using Moat.Interop;

namespace Moat.Images.Layers;

/// <summary>
/// Writes tar members into a <see cref="RootedDirectory"/>: files, links, devices, ownership, modes,
/// xattrs and times, and whiteouts in either of the two forms (<see cref="WhiteoutMode"/>).
/// </summary>
internal sealed class LayerWriter : IDisposable
{
    const string WhiteoutPrefix = ".wh.", WhiteoutMetaPrefix = ".wh..wh.", OpaqueMarker = ".wh..wh..opq";
    const uint PermissionBits = 0xFFF; // 07777
    const uint OwnerAll = 0b111_000_000, PrivateFile = 0b110_000_000;

    readonly RootedDirectory root;
    readonly UnpackOptions options;
    readonly bool apply;
    // trusted.* xattrs need CAP_SYS_ADMIN in the initial user namespace: never rootless, even as uid 0 in a user namespace.
    readonly bool trustedAllowed;
    // Unprivileged, permission bits bind us too: directories stay open to us until the end.
    readonly bool keepOwnerAccess;
    // Apply mode: the paths this layer wrote, which its own whiteouts must leave alone.
    readonly HashSet<string>? written;
    readonly List<DirectoryMetadata> directories = [];
    bool chownFailed, overlayXattrWarned;

    readonly record struct DirectoryMetadata(string Path, uint Mode, long AccessSeconds, uint AccessNanoseconds, long ModifySeconds, uint ModifyNanoseconds);

    public LayerWriter(RootedDirectory root, UnpackOptions options)
    {
        this.root = root;
        this.options = options;
        apply = options.Whiteouts == WhiteoutMode.Apply;
        trustedAllowed = !options.Rootless;
        keepOwnerAccess = options.Rootless && Libc.geteuid() != 0;
        if (apply)
        {
            written = new HashSet<string>(StringComparer.Ordinal);
            root.CreatedDirectory = path => written.Add(path);
        }
    }

    void Warn(string message) => options.Warn?.Invoke(message);

    public void Write(TarEntry entry, LayerTarReader reader)
    {
        var path = EntryPath.Normalize(entry.Name);
        if (entry.Uid is < 0 or > uint.MaxValue - 1 || entry.Gid is < 0 or > uint.MaxValue - 1)
            throw new LayerUnpackException($"the layer's member '{entry.Name}' has an owner ({entry.Uid}:{entry.Gid}) outside the range of user and group ids");
        if (path.Length == 0)
        {
            if (entry.Type == TarEntry.Directory)
                RootDirectory(entry);
            return;
        }
        if (path.StartsWith(WhiteoutMetaPrefix, StringComparison.Ordinal) && !path.StartsWith(OpaqueMarker, StringComparison.Ordinal))
            return; // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs, .wh..wh.orph): not part of the filesystem.
        var (parent, leaf) = EntryPath.Split(path);
        if (leaf.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            Whiteout(parent, leaf, entry);
            return;
        }
        if (entry.Type is TarEntry.CharDevice or TarEntry.BlockDevice && options.Rootless)
        {
            Warn($"skipped device node '{entry.Name}': device nodes cannot be made without privilege");
            return;
        }
        if (entry.Type is not (TarEntry.Regular or TarEntry.Directory or TarEntry.HardLink or TarEntry.Symlink
            or TarEntry.CharDevice or TarEntry.BlockDevice or TarEntry.Fifo))
        {
            Warn($"skipped '{entry.Name}': tar member type '{(char)entry.Type}' is not a kind of file a layer holds");
            return;
        }
        var dir = root.Directory(parent, create: true, entry.Name)!.Value;
        switch (entry.Type)
        {
            case TarEntry.Directory: MakeDirectory(dir, leaf, path, entry); break;
            case TarEntry.Regular: WriteFile(dir, leaf, entry, reader); break;
            case TarEntry.HardLink: HardLink(dir, leaf, path, entry); break;
            case TarEntry.Symlink: Symlink(dir, leaf, entry); break;
            default: MakeNode(dir, leaf, entry); break;
        }
        written?.Add(path);
    }

    void Replace(int dir, string leaf)
    {
        RootedDirectory.RemoveTree(dir, leaf);
        root.Invalidate();
    }

    void RootDirectory(TarEntry entry)
    {
        Chown(Libc.fchownat(root.Root.Fd, ".", (uint)entry.Uid, (uint)entry.Gid, Libc.AT_SYMLINK_NOFOLLOW), entry);
        Errors.Check(Libc.fchmodat(root.Root.Fd, ".", Mode(entry, directory: true), 0), "chmod", "the layer root");
        SetXattrsAt(root.Root.Fd, ".", entry);
        Defer("", entry);
    }

    void MakeDirectory(int dir, string leaf, string path, TarEntry entry)
    {
        if (Libc.mkdirat(dir, leaf, OwnerAll) < 0)
        {
            var errno = Errors.LastErrno;
            if (errno != Errors.EEXIST)
                throw new SyscallException("mkdir", errno, entry.Name);
            // An existing directory is kept (with what lower members put in it) and takes this member's metadata.
            if (Libc.TryStatAt(dir, leaf) is not { IsDirectory: true })
            {
                Replace(dir, leaf);
                dir = root.Directory(EntryPath.Split(path).Parent, create: true, entry.Name)!.Value;
                Errors.Check(Libc.mkdirat(dir, leaf, OwnerAll), "mkdir", entry.Name);
            }
        }
        Chown(Libc.fchownat(dir, leaf, (uint)entry.Uid, (uint)entry.Gid, Libc.AT_SYMLINK_NOFOLLOW), entry);
        Errors.Check(Libc.fchmodat(dir, leaf, Mode(entry, directory: true), 0), "chmod", entry.Name);
        SetXattrsAt(dir, leaf, entry);
        Defer(path, entry);
    }

    void Defer(string path, TarEntry entry)
    {
        var (atime, atimeNs) = AccessTime(entry);
        directories.Add(new(path, entry.Mode & PermissionBits, atime, atimeNs, entry.ModifySeconds, entry.ModifyNanoseconds));
    }

    /// <summary>Directory permissions as the layer says, except that rootless keeps owner rwx until the end so members can go in.</summary>
    uint Mode(TarEntry entry, bool directory) =>
        (entry.Mode & PermissionBits) | (directory && keepOwnerAccess ? OwnerAll : 0);

    static (long, uint) AccessTime(TarEntry entry) =>
        entry.HasAccessTime ? (entry.AccessSeconds, entry.AccessNanoseconds) : (entry.ModifySeconds, entry.ModifyNanoseconds);

    void WriteFile(int dir, string leaf, TarEntry entry, LayerTarReader reader)
    {
        const int flags = Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW | Libc.O_CLOEXEC;
        var fd = Libc.openat(dir, leaf, flags, PrivateFile);
        if (fd < 0 && Errors.LastErrno == Errors.EEXIST)
        {
            Replace(dir, leaf);
            dir = root.Directory(EntryPath.Split(EntryPath.Normalize(entry.Name)).Parent, create: true, entry.Name)!.Value;
            fd = Libc.openat(dir, leaf, flags, PrivateFile);
        }
        using var file = new FileDescriptor(Errors.Check(fd, "create", entry.Name));
        for (var chunk = reader.ReadData(); !chunk.IsEmpty; chunk = reader.ReadData())
            Libc.WriteAll(file.Fd, chunk, entry.Name);
        // chown clears setuid/setgid and file capabilities: owner first, then mode, then xattrs.
        Chown(Libc.fchown(file.Fd, (uint)entry.Uid, (uint)entry.Gid), entry);
        Errors.Check(Libc.fchmod(file.Fd, entry.Mode & PermissionBits), "chmod", entry.Name);
        foreach (var (name, value) in Xattrs(entry))
            SetXattr(file.Fd, name, value, entry);
        var (atime, atimeNs) = AccessTime(entry);
        Libc.SetTimes(file.Fd, atime, atimeNs, entry.ModifySeconds, entry.ModifyNanoseconds, entry.Name);
    }

    void HardLink(int dir, string leaf, string path, TarEntry entry)
    {
        var target = EntryPath.Normalize(entry.LinkName);
        if (target.Length == 0)
            throw new LayerUnpackException($"the layer's hard link '{entry.Name}' points to the layer root; refused");
        if (target == path)
            return;
        var (targetParent, targetLeaf) = EntryPath.Split(target);
        using var targetDir = root.DirectoryWithoutSymlinks(targetParent, entry.Name);
        // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it points to.
        if (Libc.linkat(targetDir.Fd, targetLeaf, dir, leaf, 0) == 0)
            return;
        var errno = Errors.LastErrno;
        if (errno == Errors.EEXIST)
        {
            Replace(dir, leaf);
            dir = root.Directory(EntryPath.Split(path).Parent, create: true, entry.Name)!.Value;
            if (Libc.linkat(targetDir.Fd, targetLeaf, dir, leaf, 0) == 0)
                return;
            errno = Errors.LastErrno;
        }
        throw errno switch
        {
            Errors.ENOENT => new LayerUnpackException($"the layer's hard link '{entry.Name}' points to '{entry.LinkName}', which is not in the layer"),
            Errors.EPERM => new LayerUnpackException($"the layer's hard link '{entry.Name}' points to '{entry.LinkName}', which cannot be linked (a directory?)"),
            _ => new SyscallException("link", errno, $"{entry.Name} -> {entry.LinkName}"),
        };
    }

    void Symlink(int dir, string leaf, TarEntry entry)
    {
        if (entry.LinkName.Contains('\0'))
            throw new LayerUnpackException($"the layer's symlink '{entry.Name}' has a NUL byte in its target; refused");
        if (Libc.symlinkat(entry.LinkName, dir, leaf) < 0)
        {
            if (Errors.LastErrno != Errors.EEXIST)
                throw new SyscallException("symlink", Errors.LastErrno, entry.Name);
            Replace(dir, leaf);
            dir = root.Directory(EntryPath.Split(EntryPath.Normalize(entry.Name)).Parent, create: true, entry.Name)!.Value;
            Errors.Check(Libc.symlinkat(entry.LinkName, dir, leaf), "symlink", entry.Name);
        }
        Chown(Libc.fchownat(dir, leaf, (uint)entry.Uid, (uint)entry.Gid, Libc.AT_SYMLINK_NOFOLLOW), entry);
        SetXattrsAt(dir, leaf, entry);
        var (atime, atimeNs) = AccessTime(entry);
        Libc.SetTimesAt(dir, leaf, atime, atimeNs, entry.ModifySeconds, entry.ModifyNanoseconds);
    }

    void MakeNode(int dir, string leaf, TarEntry entry)
    {
        var type = entry.Type switch { TarEntry.CharDevice => Libc.S_IFCHR, TarEntry.BlockDevice => Libc.S_IFBLK, _ => Libc.S_IFIFO };
        var device = entry.Type == TarEntry.Fifo ? 0 : Libc.MakeDevice(entry.DeviceMajor, entry.DeviceMinor);
        if (Libc.mknodat(dir, leaf, type | (entry.Mode & PermissionBits & ~0xE00u), device) < 0)
        {
            if (Errors.LastErrno != Errors.EEXIST)
                throw new SyscallException("mknod", Errors.LastErrno, entry.Name);
            Replace(dir, leaf);
            dir = root.Directory(EntryPath.Split(EntryPath.Normalize(entry.Name)).Parent, create: true, entry.Name)!.Value;
            Errors.Check(Libc.mknodat(dir, leaf, type | (entry.Mode & PermissionBits & ~0xE00u), device), "mknod", entry.Name);
        }
        Chown(Libc.fchownat(dir, leaf, (uint)entry.Uid, (uint)entry.Gid, Libc.AT_SYMLINK_NOFOLLOW), entry);
        // The node was just made here (not a symlink), so fchmodat's following is moot.
        Errors.Check(Libc.fchmodat(dir, leaf, entry.Mode & PermissionBits, 0), "chmod", entry.Name);
        SetXattrsAt(dir, leaf, entry);
        var (atime, atimeNs) = AccessTime(entry);
        Libc.SetTimesAt(dir, leaf, atime, atimeNs, entry.ModifySeconds, entry.ModifyNanoseconds);
    }

    void Whiteout(string parent, string leaf, TarEntry entry)
    {
        if (leaf == OpaqueMarker)
        {
            Opaque(parent, entry);
            return;
        }
        if (leaf.StartsWith(WhiteoutMetaPrefix, StringComparison.Ordinal))
            return; // AUFS bookkeeping inside a directory.
        var name = leaf[WhiteoutPrefix.Length..];
        if (name.Length == 0 || name is "." or "..")
            throw new LayerUnpackException($"the layer's whiteout '{entry.Name}' names no file; refused");
        if (apply)
        {
            // A whiteout hides what lower layers hold, never what this layer wrote.
            if (written!.Contains(EntryPath.Join(parent, name)))
                return;
            // Parents are made as for any member (docker's applier does too), so both modes give the same tree.
            Replace(root.Directory(parent, create: true, entry.Name)!.Value, name);
            return;
        }
        var dir = root.Directory(parent, create: true, entry.Name)!.Value;
        if (Libc.mknodat(dir, name, Libc.S_IFCHR, 0) < 0)
        {
            if (Errors.LastErrno != Errors.EEXIST)
                throw new SyscallException("mknod (whiteout)", Errors.LastErrno, EntryPath.Join(parent, name));
            Replace(dir, name);
            dir = root.Directory(parent, create: true, entry.Name)!.Value;
            Errors.Check(Libc.mknodat(dir, name, Libc.S_IFCHR, 0), "mknod (whiteout)", EntryPath.Join(parent, name));
        }
    }

    void Opaque(string parent, TarEntry entry)
    {
        if (apply)
        {
            if (root.Directory(parent, create: true, entry.Name) is { } dir)
            {
                // The resolved descriptor is O_PATH; listing needs the directory opened for reading.
                using var readable = new FileDescriptor(Errors.Check(Libc.openat(dir, ".", Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0), "open", parent));
                ClearLowerEntries(readable.Fd, parent);
            }
            return;
        }
        var target = root.Directory(parent, create: true, entry.Name)!.Value;
        var name = OpaqueXattr;
        var errno = Libc.TrySetXattrAt(target, ".", name, "y"u8);
        if (errno != 0)
            throw new SyscallException("setxattr " + name, errno, parent.Length == 0 ? "the layer root" : parent);
    }

    /// <summary>trusted.* needs CAP_SYS_ADMIN; without it overlay reads the user.* form (mounted with userxattr).</summary>
    string OpaqueXattr => trustedAllowed ? "trusted.overlay.opaque" : "user.overlay.opaque";

    /// <summary>An opaque directory in Apply mode: everything under it that this layer did not write goes.</summary>
    void ClearLowerEntries(int dir, string path)
    {
        foreach (var (name, type) in Libc.ListDirectory(dir, path))
        {
            var child = EntryPath.Join(path, name);
            if (!written!.Contains(child))
            {
                RootedDirectory.RemoveTree(dir, name);
                root.Invalidate();
                continue;
            }
            if (type != Libc.DT_DIR && !(type == Libc.DT_UNKNOWN && Libc.TryStatAt(dir, name) is { IsDirectory: true }))
                continue;
            var fd = Libc.openat(dir, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
            using var sub = new FileDescriptor(Errors.Check(fd, "open", child));
            ClearLowerEntries(sub.Fd, child);
        }
    }

    IEnumerable<(string Name, byte[] Value)> Xattrs(TarEntry entry)
    {
        foreach (var (name, value) in entry.Xattrs)
        {
            if (name.StartsWith("trusted.overlay.", StringComparison.Ordinal) || name.StartsWith("user.overlay.", StringComparison.Ordinal))
            {
                // Only the unpacker decides what overlay sees: an archive that sets these could hide or redirect lower layers.
                if (!overlayXattrWarned)
                    Warn($"dropped xattr {name} on '{entry.Name}': overlay attributes in an archive are not honoured");
                overlayXattrWarned = true;
                continue;
            }
            if (name.StartsWith("trusted.", StringComparison.Ordinal) && !trustedAllowed)
            {
                Warn($"dropped xattr {name} on '{entry.Name}': trusted.* needs privilege");
                continue;
            }
            yield return (name, value);
        }
    }

    void SetXattr(int fd, string name, byte[] value, TarEntry entry)
    {
        try
        {
            Libc.SetXattr(fd, name, value, entry.Name);
        }
        catch (SyscallException e) when (e.Errno == Errors.EOPNOTSUPP)
        {
            Warn($"dropped xattr {name} on '{entry.Name}': the filesystem does not support it");
        }
    }

    void SetXattrsAt(int dir, string leaf, TarEntry entry)
    {
        foreach (var (name, value) in Xattrs(entry))
        {
            var errno = Libc.TrySetXattrAt(dir, leaf, name, value);
            if (errno == Errors.EOPNOTSUPP || (errno == Errors.EPERM && name.StartsWith("user.", StringComparison.Ordinal)))
                Warn($"dropped xattr {name} on '{entry.Name}': {Errors.Describe(errno)}");
            else if (errno != 0)
                throw new SyscallException("setxattr " + name, errno, entry.Name);
        }
    }

    void Chown(int result, TarEntry entry)
    {
        if (result == 0)
            return;
        var errno = Errors.LastErrno;
        // Rootless outside a user namespace, or ids the namespace does not map: keep going, owned by us.
        if (options.Rootless && errno is Errors.EPERM or Errors.EINVAL)
        {
            if (!chownFailed)
                Warn($"ownership not kept (first at '{entry.Name}', {entry.Uid}:{entry.Gid}): {Errors.Describe(errno)}");
            chownFailed = true;
            return;
        }
        throw new SyscallException("chown", errno, $"{entry.Name} to {entry.Uid}:{entry.Gid}");
    }

    /// <summary>Directory times last (their members changed them), and rootless directories' final modes.</summary>
    public void Finish()
    {
        root.Invalidate();
        foreach (var d in directories)
        {
            var (parent, leaf) = d.Path.Length == 0 ? ("", ".") : EntryPath.Split(d.Path);
            if (root.Directory(parent, create: false, d.Path) is not { } dir || Libc.TryStatAt(dir, leaf) is not { IsDirectory: true })
                continue; // replaced by a later member
            if (keepOwnerAccess)
                Errors.Check(Libc.fchmodat(dir, leaf, d.Mode, 0), "chmod", d.Path);
            Libc.SetTimesAt(dir, leaf, d.AccessSeconds, d.AccessNanoseconds, d.ModifySeconds, d.ModifyNanoseconds);
        }
    }

    public void Dispose() => root.Dispose();
}
