using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Mounts, pivot_root and path resolution that stays inside a root.</summary>
public static unsafe partial class Libc
{
    public const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_SYNCHRONOUS = 16,
        MS_REMOUNT = 32, MS_MANDLOCK = 64, MS_DIRSYNC = 128, MS_NOSYMFOLLOW = 256, MS_NOATIME = 1024,
        MS_NODIRATIME = 2048, MS_BIND = 4096, MS_MOVE = 8192, MS_REC = 16384, MS_SILENT = 32768,
        MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20,
        MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24, MS_LAZYTIME = 1 << 25;
    public const int MNT_DETACH = 2, UMOUNT_NOFOLLOW = 8;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string? source, string target, string? fstype, ulong flags, string? data);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial long syscall(long number, long a1, long a2, long a3, long a4, long a5);

    public static void Mount(string? source, string target, string? fstype, ulong flags, string? data)
    {
        if (mount(source, target, fstype, flags, data) < 0)
            throw new SyscallException("mount", Errors.LastErrno, $"{source ?? "none"} on {target} (type {fstype ?? "none"})");
    }

    public static void PivotRoot(string newRoot, string putOld)
    {
        var n = System.Text.Encoding.UTF8.GetBytes(newRoot + "\0");
        var o = System.Text.Encoding.UTF8.GetBytes(putOld + "\0");
        fixed (byte* pn = n, po = o)
            Errors.Check(syscall(SyscallNumbers.PivotRoot, (long)pn, (long)po, 0, 0, 0), "pivot_root", newRoot);
    }

    public const ulong RESOLVE_NO_XDEV = 1, RESOLVE_NO_MAGICLINKS = 2, RESOLVE_NO_SYMLINKS = 4,
        RESOLVE_BENEATH = 8, RESOLVE_IN_ROOT = 16;

    [StructLayout(LayoutKind.Sequential)]
    struct OpenHow
    {
        public ulong Flags, Mode, Resolve;
    }

    /// <summary>openat2(2): resolves <paramref name="path"/> with the given RESOLVE_* rules.</summary>
    public static int openat2(int dirfd, string path, ulong flags, ulong mode, ulong resolve)
    {
        var how = new OpenHow { Flags = flags, Mode = mode, Resolve = resolve };
        var p = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p)
            return (int)syscall(SyscallNumbers.Openat2, dirfd, (long)pp, (long)&how, sizeof(OpenHow), 0);
    }

    public const uint OPEN_TREE_CLONE = 1, OPEN_TREE_CLOEXEC = 0x80000, AT_RECURSIVE = 0x8000;
    public const uint MOVE_MOUNT_F_EMPTY_PATH = 4, MOVE_MOUNT_T_EMPTY_PATH = 0x40;
    public const ulong MOUNT_ATTR_RDONLY = 1, MOUNT_ATTR_NOSUID = 2, MOUNT_ATTR_NODEV = 4, MOUNT_ATTR_NOEXEC = 8,
        MOUNT_ATTR_IDMAP = 0x00100000;

    [StructLayout(LayoutKind.Sequential)]
    struct MountAttr
    {
        public ulong AttrSet, AttrClr, Propagation, UsernsFd;
    }

    /// <summary>open_tree(2) with OPEN_TREE_CLONE: a detached copy of a mount (tree) to idmap and attach.</summary>
    public static FileDescriptor OpenTreeClone(string path, bool recursive)
    {
        var p = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p)
        {
            var flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
            return new FileDescriptor((int)Errors.Check(syscall(SyscallNumbers.OpenTree, AT_FDCWD, (long)pp, flags, 0, 0), "open_tree", path));
        }
    }

    /// <summary>mount_setattr(2) with MOUNT_ATTR_IDMAP: maps the mount's ids through a user namespace.</summary>
    public static void SetIdmap(FileDescriptor mountFd, FileDescriptor userns, bool recursive, string what)
    {
        var attr = new MountAttr { AttrSet = MOUNT_ATTR_IDMAP, UsernsFd = (ulong)userns.Fd };
        var empty = stackalloc byte[1];
        empty[0] = 0;
        var flags = AT_EMPTY_PATH | (recursive ? (int)AT_RECURSIVE : 0);
        Errors.Check(syscall(SyscallNumbers.MountSetattr, mountFd.Fd, (long)empty, flags, (long)&attr, sizeof(MountAttr)), "mount_setattr idmap", what);
    }

    const uint FSOPEN_CLOEXEC = 1, FSMOUNT_CLOEXEC = 1, FSCONFIG_SET_STRING = 1, FSCONFIG_CMD_CREATE = 6;

    /// <summary>
    /// A new filesystem instance that is mounted nowhere (fsopen, fsconfig, fsmount): the descriptor
    /// of its root is all that holds it, so it disappears with the last descriptor into it.
    /// </summary>
    public static FileDescriptor MountDetached(string fstype, IEnumerable<(string Key, string Value)> options, ulong mountAttributes)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(fstype + "\0");
        int contextFd;
        fixed (byte* pn = name)
            contextFd = (int)Errors.Check(syscall(SyscallNumbers.Fsopen, (long)pn, FSOPEN_CLOEXEC, 0, 0, 0), "fsopen", fstype);
        using var context = new FileDescriptor(contextFd);
        foreach (var (key, value) in options)
        {
            var k = System.Text.Encoding.UTF8.GetBytes(key + "\0");
            var v = System.Text.Encoding.UTF8.GetBytes(value + "\0");
            fixed (byte* pk = k, pv = v)
                Errors.Check(syscall(SyscallNumbers.Fsconfig, context.Fd, FSCONFIG_SET_STRING, (long)pk, (long)pv, 0), "fsconfig", $"{fstype} {key}={value}");
        }
        Errors.Check(syscall(SyscallNumbers.Fsconfig, context.Fd, FSCONFIG_CMD_CREATE, 0, 0, 0), "fsconfig create", fstype);
        return new FileDescriptor((int)Errors.Check(syscall(SyscallNumbers.Fsmount, context.Fd, FSMOUNT_CLOEXEC, (long)mountAttributes, 0, 0), "fsmount", fstype));
    }

    /// <summary>move_mount(2): attaches a detached mount onto the file or directory an (O_PATH) descriptor names.</summary>
    public static void MoveMount(FileDescriptor mountFd, FileDescriptor target, string what)
    {
        var empty = stackalloc byte[1];
        empty[0] = 0;
        Errors.Check(syscall(SyscallNumbers.MoveMount, mountFd.Fd, (long)empty, target.Fd, (long)empty, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), "move_mount", what);
    }
}

public static unsafe partial class Libc
{
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statfs(string path, byte* buffer);

    /// <summary>The ST_* mount flags of the filesystem at path (they share values with MS_*).</summary>
    public static ulong MountFlagsOf(string path)
    {
        var buffer = stackalloc byte[120];
        Errors.Check(statfs(path, buffer), "statfs", path);
        return *(ulong*)(buffer + 80);
    }

    /// <summary>The filesystem's magic number (statfs f_type) at path: EXT4_SUPER_MAGIC 0xEF53, TMPFS_MAGIC 0x01021994...</summary>
    public static long FilesystemTypeOf(string path)
    {
        var buffer = stackalloc byte[120];
        Errors.Check(statfs(path, buffer), "statfs", path);
        return *(long*)buffer;
    }

    /// <summary>mount_setattr(2) on the mount at path: set and clear MOUNT_ATTR_* bits, optionally recursively.</summary>
    public static void MountSetAttr(string path, ulong set, ulong clear, bool recursive)
    {
        var attr = new MountAttr { AttrSet = set, AttrClr = clear };
        var p = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p)
            Errors.Check(syscall(SyscallNumbers.MountSetattr, AT_FDCWD, (long)pp, recursive ? AT_RECURSIVE : 0, (long)&attr, sizeof(MountAttr)), "mount_setattr", path);
    }
}
