using Moat.Interop;

namespace Moat.Runtime.Rootfs;

/// <summary>What a path is, as stat(2) (following symlinks) tells; Missing for any failure.</summary>
public enum PathKind { Missing, Directory, Other }

/// <summary>
/// The system calls <see cref="RootfsExecutor"/> applies a plan with: <see cref="RootfsSyscalls"/>
/// over Moat.Interop in the init, a recording fake in the unit tests. Calls whose failure a step
/// handles return the errno (0 on success); the others throw <see cref="SyscallException"/>.
/// </summary>
public interface IRootfsSyscalls
{
    void SetUmask(uint mask);

    /// <summary>mount(2); 0, or the errno.</summary>
    int Mount(string? source, string target, string? type, ulong flags, string? data);

    /// <summary>The ST_* flags of the mount at the path (statfs).</summary>
    ulong MountFlagsOf(string path);

    void MountSetAttr(string path, ulong set, ulong clear, bool recursive);

    FileDescriptor OpenTreeClone(string source, bool recursive);

    void SetIdmap(FileDescriptor tree, FileDescriptor userNamespace, bool recursive, string what);

    void MoveMount(FileDescriptor tree, FileDescriptor target, string what);

    PathKind Stat(string path);

    /// <summary>The root that paths of the container resolve in (openat2 RESOLVE_IN_ROOT).</summary>
    IRootDirectory OpenRoot(string rootfs);

    /// <summary>The directory a descriptor names, opened for reading (what a tmpfs is about to cover).</summary>
    FileDescriptor OpenDirectoryOf(FileDescriptor target);

    /// <summary>Copies a directory's entries (files, directories, symlinks) with their modes and owners.</summary>
    void CopyTree(string source, string target);

    /// <summary>unlinkat(2) of an entry, whatever it was; a missing one is no error.</summary>
    void Unlink(FileDescriptor directory, string name);

    /// <summary>mknodat(2); 0, or the errno.</summary>
    int MakeNode(FileDescriptor directory, string name, uint mode, ulong device);

    void Chown(FileDescriptor directory, string name, uint uid, uint gid, string what);

    /// <summary>symlinkat(2); 0, or the errno.</summary>
    int Symlink(string target, FileDescriptor directory, string name);

    FileDescriptor OpenDirectory(string path);

    void ChangeDirectory(FileDescriptor directory, string what);

    void ChangeDirectory(string path);

    void PivotRoot(string newRoot, string putOld);

    void Chroot(string path, string what);

    void Unmount(string path, int flags, string what);
}

/// <summary>Paths inside the container's root; <see cref="RootPath"/> is the real one.</summary>
public interface IRootDirectory : IDisposable
{
    /// <summary>Opens an existing path (O_PATH), or null when a component is missing.</summary>
    FileDescriptor? TryOpen(string path);

    /// <summary>Opens the path, creating what is missing (directories, and the last component as a file if asked).</summary>
    FileDescriptor OpenOrCreate(string path, bool lastIsFile);

    FileDescriptor OpenDirectory(string path);
}
