using Moat.Interop;
using Moat.Runtime.Rootfs;

namespace Moat.Tests.Unit.Rootfs;

/// <summary>
/// Records every call the executor makes, in order, as a line. Descriptors are made-up numbers (never
/// closed: not owned) that remember what they name, so a mount through /proc/self/fd/N is recorded
/// on "root:/path" or the host path it was opened from. Failures are staged per call.
/// </summary>
internal sealed class FakeRootfsSyscalls : IRootfsSyscalls
{
    public List<string> Calls { get; } = [];

    /// <summary>The errno the next mount onto a target (as recorded, e.g. "root:/sys") fails with, once.</summary>
    public Dictionary<string, int> MountErrors { get; } = [];

    /// <summary>What stat says about host paths (also "root:/..." for a descriptor's /proc path); others are missing.</summary>
    public Dictionary<string, PathKind> Paths { get; } = [];

    public int MknodErrno { get; set; }

    public ulong MountFlags { get; set; }

    public List<FakeRoot> Roots { get; } = [];

    readonly Dictionary<int, string> names = [];
    int nextFd = 100;

    internal FileDescriptor NewFd(string name)
    {
        var fd = new FileDescriptor(nextFd++, ownsHandle: false);
        names[fd.Fd] = name;
        return fd;
    }

    /// <summary>What a path passed to a call names: the descriptor's file for a /proc/self/fd path.</summary>
    public string Show(string? path)
    {
        if (path is null)
            return "none";
        const string prefix = "/proc/self/fd/";
        return path.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(path[prefix.Length..], out var fd) && names.TryGetValue(fd, out var name)
            ? name
            : path;
    }

    public string Show(FileDescriptor fd) => names.TryGetValue(fd.Fd, out var name) ? name : $"fd {fd.Fd}";

    public void SetUmask(uint mask) => Calls.Add($"umask {Convert.ToString(mask, 8)}");

    public int Mount(string? source, string target, string? type, ulong flags, string? data)
    {
        Calls.Add($"mount {Show(source)} on {Show(target)} type {type ?? "none"} {PlanText.Flags(flags)}" + (data is null ? "" : $" data {data}"));
        if (MountErrors.Remove(Show(target), out var errno))
            return errno;
        // A descriptor taken before a new mount covered its path still names the directory below it:
        // a remount through it would miss the new mount (EINVAL in the kernel).
        const string prefix = "/proc/self/fd/";
        if ((flags & Libc.MS_REMOUNT) == 0 && target.StartsWith(prefix, StringComparison.Ordinal) && int.TryParse(target[prefix.Length..], out var fd) && names.TryGetValue(fd, out var name))
            names[fd] = "under " + name;
        return 0;
    }

    public ulong MountFlagsOf(string path)
    {
        Calls.Add($"statfs {Show(path)}");
        return MountFlags;
    }

    public void MountSetAttr(string path, ulong set, ulong clear, bool recursive) =>
        Calls.Add($"mount_setattr {Show(path)} set 0x{set:x} clear 0x{clear:x}{(recursive ? " rec" : "")}");

    public FileDescriptor OpenTreeClone(string source, bool recursive)
    {
        Calls.Add($"open_tree clone {source}{(recursive ? " rec" : "")}");
        return NewFd("tree:" + source);
    }

    public void SetIdmap(FileDescriptor tree, FileDescriptor userNamespace, bool recursive, string what) =>
        Calls.Add($"idmap {Show(tree)} userns fd {userNamespace.Fd}{(recursive ? " rec" : "")}");

    public void MoveMount(FileDescriptor tree, FileDescriptor target, string what) =>
        Calls.Add($"move_mount {Show(tree)} to {Show(target)}");

    public PathKind Stat(string path)
    {
        Calls.Add($"stat {Show(path)}");
        return Paths.TryGetValue(Show(path), out var kind) ? kind : PathKind.Missing;
    }

    public IRootDirectory OpenRoot(string rootfs)
    {
        Calls.Add($"open root {rootfs}");
        var root = new FakeRoot(this);
        Roots.Add(root);
        return root;
    }

    public FileDescriptor OpenDirectoryOf(FileDescriptor target)
    {
        Calls.Add($"open dir {Show(target)}");
        return NewFd("covered:" + Show(target));
    }

    public void CopyTree(string source, string target) => Calls.Add($"copy {Show(source)} to {Show(target)}");

    public void Unlink(FileDescriptor directory, string name) => Calls.Add($"unlink {Show(directory)}/{name}");

    public int MakeNode(FileDescriptor directory, string name, uint mode, ulong device)
    {
        Calls.Add($"mknod {Show(directory)}/{name} 0x{mode:x} 0x{device:x}");
        return MknodErrno;
    }

    public void Chown(FileDescriptor directory, string name, uint uid, uint gid, string what) =>
        Calls.Add($"chown {Show(directory)}/{name} {uid}:{gid}");

    public int Symlink(string target, FileDescriptor directory, string name)
    {
        Calls.Add($"symlink {Show(directory)}/{name} -> {target}");
        return 0;
    }

    public FileDescriptor OpenDirectory(string path)
    {
        Calls.Add($"open {path}");
        return NewFd(path);
    }

    public void ChangeDirectory(FileDescriptor directory, string what) => Calls.Add($"fchdir {Show(directory)}");

    public void ChangeDirectory(string path) => Calls.Add($"chdir {path}");

    public void PivotRoot(string newRoot, string putOld) => Calls.Add($"pivot_root {newRoot} {putOld}");

    public void Chroot(string path, string what) => Calls.Add($"chroot {path}");

    public void Unmount(string path, int flags, string what) => Calls.Add($"umount {path} 0x{flags:x}");
}

/// <summary>The root of <see cref="FakeRootfsSyscalls"/>: every path exists, or is created, as asked.</summary>
internal sealed class FakeRoot(FakeRootfsSyscalls sys) : IRootDirectory
{
    public bool Disposed { get; private set; }

    public FileDescriptor? TryOpen(string path) => sys.NewFd("root:" + path);

    public FileDescriptor OpenOrCreate(string path, bool lastIsFile)
    {
        sys.Calls.Add($"make {(lastIsFile ? "file" : "dir")} root:{path}");
        return sys.NewFd("root:" + path);
    }

    public FileDescriptor OpenDirectory(string path) => sys.NewFd("root:" + path);

    public void Dispose()
    {
        sys.Calls.Add("close root");
        Disposed = true;
    }
}
