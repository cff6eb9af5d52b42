using Moat.Interop;
using static Moat.Interop.Libc;

namespace Moat.Runtime.Rootfs;

/// <summary>The real system calls behind <see cref="RootfsExecutor"/>, over Moat.Interop.</summary>
public sealed class RootfsSyscalls : IRootfsSyscalls
{
    public static readonly RootfsSyscalls Instance = new();

    public void SetUmask(uint mask) => umask(mask);

    public int Mount(string? source, string target, string? type, ulong flags, string? data) =>
        mount(source, target, type, flags, data) == 0 ? 0 : Errors.LastErrno;

    public ulong MountFlagsOf(string path) => Libc.MountFlagsOf(path);

    public void MountSetAttr(string path, ulong set, ulong clear, bool recursive) => Libc.MountSetAttr(path, set, clear, recursive);

    public FileDescriptor OpenTreeClone(string source, bool recursive) => Libc.OpenTreeClone(source, recursive);

    public void SetIdmap(FileDescriptor tree, FileDescriptor userNamespace, bool recursive, string what) =>
        Libc.SetIdmap(tree, userNamespace, recursive, what);

    public void MoveMount(FileDescriptor tree, FileDescriptor target, string what) => Libc.MoveMount(tree, target, what);

    public PathKind Stat(string path) => TryStatMode(path) switch
    {
        null => PathKind.Missing,
        { } mode when (mode & S_IFMT) == S_IFDIR => PathKind.Directory,
        _ => PathKind.Other,
    };

    public IRootDirectory OpenRoot(string rootfs) => new RootPath(Open(rootfs, O_PATH | O_DIRECTORY), rootfs);

    public FileDescriptor OpenDirectoryOf(FileDescriptor target) => Open(RootPath.ProcPath(target), O_RDONLY | O_DIRECTORY);

    public void Unlink(FileDescriptor directory, string name) => unlinkat(directory.Fd, name, 0);

    public int MakeNode(FileDescriptor directory, string name, uint mode, ulong device) =>
        mknodat(directory.Fd, name, mode, device) == 0 ? 0 : Errors.LastErrno;

    public void Chown(FileDescriptor directory, string name, uint uid, uint gid, string what) =>
        Errors.Check(fchownat(directory.Fd, name, uid, gid, AT_SYMLINK_NOFOLLOW), "chown", what);

    public int Symlink(string target, FileDescriptor directory, string name) =>
        symlinkat(target, directory.Fd, name) == 0 ? 0 : Errors.LastErrno;

    public FileDescriptor OpenDirectory(string path) => Open(path, O_RDONLY | O_DIRECTORY);

    public void ChangeDirectory(FileDescriptor directory, string what) => Errors.Check(fchdir(directory.Fd), "chdir", what);

    public void ChangeDirectory(string path) => Errors.Check(chdir(path), "chdir", path);

    public void PivotRoot(string newRoot, string putOld) => Libc.PivotRoot(newRoot, putOld);

    public void Chroot(string path, string what) => Errors.Check(chroot(path), "chroot", what);

    public void Unmount(string path, int flags, string what) => Errors.Check(umount2(path, flags), "umount", what);

    /// <summary>
    /// Copies a directory's contents with their modes and owners; symlinks are copied as links, never
    /// followed; device nodes, fifos and sockets are left out (runc copies files, dirs and links too).
    /// </summary>
    public void CopyTree(string source, string target)
    {
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            var from = entry.FullName;
            var to = Path.Combine(target, entry.Name);
            var (mode, uid, gid) = LStat(from);
            switch (mode & S_IFMT)
            {
                case S_IFLNK:
                    File.CreateSymbolicLink(to, entry.LinkTarget!);
                    break;
                case S_IFDIR:
                    Directory.CreateDirectory(to);
                    CopyTree(from, to);
                    break;
                case S_IFREG:
                    File.Copy(from, to);
                    break;
                default:
                    continue;
            }
            Errors.Check(fchownat(AT_FDCWD, to, uid, gid, AT_SYMLINK_NOFOLLOW), "chown", to);
            // After the chown, which clears set-id bits.
            if ((mode & S_IFMT) != S_IFLNK)
                File.SetUnixFileMode(to, (UnixFileMode)(mode & 0xfff));
        }
    }
}
