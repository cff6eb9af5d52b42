using Moat.Interop;
using static Moat.Interop.Libc;

namespace Moat.Runtime.Rootfs;

/// <summary>
/// Applies a <see cref="RootfsPlan"/>'s steps in order through <see cref="IRootfsSyscalls"/>. It
/// decides only what the filesystem tells when a step runs: whether a bind source exists and is a
/// directory, whether a masked path is one, and the kernel's answer to a mount a step has a fallback
/// for. A failed step is reported with the config field it carries out and its destination.
/// </summary>
public sealed class RootfsExecutor(IRootfsSyscalls sys, Action<RootfsCheckpoint>? checkpoint = null)
{
    /// <summary>Runs the steps; the root opened by an <see cref="OpenRoot"/> step is closed at the end.</summary>
    public void Run(IReadOnlyList<RootfsStep> steps)
    {
        IRootDirectory? root = null;
        FileDescriptor? attachedRoot = null;
        try
        {
            for (var i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                switch (step)
                {
                    case Checkpoint c:
                        // Not the plan's own work: its errors are its own.
                        checkpoint?.Invoke(c.Point);
                        continue;
                    case SkipUnlessHostDirectory skip:
                        if (sys.Stat(skip.Destination) != PathKind.Directory)
                            i += skip.Count;
                        continue;
                }
                try
                {
                    if (step is OpenRoot)
                        root = sys.OpenRoot(step.Destination);
                    else if (step is AttachRoot attach)
                    {
                        attachedRoot = attach.Tree; // held until the pivot is done: later steps name the root by it
                        using (attach.Target)
                            sys.MoveMount(attach.Tree, attach.Target, attach.Destination);
                    }
                    else
                        Apply(step, root);
                }
                catch (Exception e) when (e is SyscallException or IOException)
                {
                    throw Failure(step, e is SyscallException ? e.Message : Oci.ErrorText.Of(e), e);
                }
            }
        }
        finally
        {
            root?.Dispose();
            attachedRoot?.Dispose();
        }
    }

    static RuntimeException Failure(RootfsStep step, string message, Exception? inner = null) =>
        new($"{step.Origin} ({step.Destination}): {message}", inner);

    static IRootDirectory InRoot(RootfsStep step, IRootDirectory? root) =>
        root ?? throw new InvalidOperationException($"rootfs plan: {step.GetType().Name} for {step.Destination} comes before the root is opened");

    void Apply(RootfsStep step, IRootDirectory? root)
    {
        switch (step)
        {
            case SetUmask s:
                sys.SetUmask(s.Mask);
                break;
            case ChangePropagation p when p.InRoot:
                using (var mounted = Existing(InRoot(p, root), p.Destination))
                    MountOrThrow(null, RootPath.ProcPath(mounted), null, p.Flags, null);
                break;
            case ChangePropagation p:
                MountOrThrow(null, p.Destination, null, p.Flags, null);
                break;
            case HostMount m:
                MountOrThrow(m.Source, m.Destination, m.Type, m.Flags, null);
                break;
            case MountFilesystem m:
                MountFilesystem(m, InRoot(m, root));
                break;
            case BindMount b:
                try
                {
                    Bind(b, InRoot(b, root));
                }
                finally
                {
                    b.OpenedSource?.Dispose();
                }
                break;
            case IdmappedBind b:
                IdmappedBind(b, InRoot(b, root));
                break;
            case SetRecursiveAttributes a:
                using (var mounted = Existing(InRoot(a, root), a.Destination))
                    sys.MountSetAttr(RootPath.ProcPath(mounted), a.Set, a.Clear, recursive: true);
                break;
            case Remount r when r.InRoot:
                using (var mounted = Existing(InRoot(r, root), r.Destination))
                    Remount(RootPath.ProcPath(mounted), r.Flags);
                break;
            case Remount r:
                Remount(r.Destination, r.Flags);
                break;
            case MakeDevice d:
                MakeDevice(d, InRoot(d, root));
                break;
            case BindDevice d:
                using (var parent = DeviceParent(InRoot(d, root), d.Destination, out var name))
                    sys.Unlink(parent, name);
                BindHostDevice(InRoot(d, root), d.Destination);
                break;
            case Symlink l:
                Symlink(l, InRoot(l, root));
                break;
            case MakeDirectory d:
                InRoot(d, root).OpenOrCreate(d.Destination, lastIsFile: false).Dispose();
                break;
            case PivotRoot p:
                Pivot(p.Destination);
                break;
            case MoveRootAndChroot c:
                sys.ChangeDirectory(c.Destination);
                MountOrThrow(c.Destination, "/", null, MS_MOVE, null);
                sys.Chroot(".", c.Destination);
                sys.ChangeDirectory("/");
                break;
            case Chroot c:
                sys.ChangeDirectory(c.Destination);
                sys.Chroot(".", c.Destination);
                sys.ChangeDirectory("/");
                break;
            case MaskPath m:
                Mask(m.Destination);
                break;
            case ReadonlyPath r:
                MakeReadonly(r.Destination);
                break;
            default:
                throw new InvalidOperationException($"rootfs plan: no executor for {step.GetType().Name}");
        }
    }

    /// <summary>A path a step before this one mounted on (so it exists).</summary>
    static FileDescriptor Existing(IRootDirectory root, string path) =>
        root.TryOpen(path) ?? throw new SyscallException("openat2", Errors.ENOENT, path);

    void MountFilesystem(MountFilesystem m, IRootDirectory root)
    {
        using var target = root.OpenOrCreate(m.Destination, lastIsFile: false);
        var targetPath = RootPath.ProcPath(target);
        // tmpcopyup: a descriptor of the directory taken before the tmpfs covers it still reaches
        // what the image has there, to copy into the new tmpfs.
        using var covered = m.CopyUp ? sys.OpenDirectoryOf(target) : null;
        var errno = sys.Mount(m.Source, targetPath, m.Type, m.Flags, m.Data);
        if (errno != 0)
        {
            if (m.Fallback is not { } fallback || (fallback.OnErrno != 0 && fallback.OnErrno != errno))
                throw new SyscallException("mount", errno, $"{m.Source} on {m.Destination} (type {m.Type})");
            MountOrThrow(fallback.Source, targetPath, null, MS_BIND | (fallback.Recursive ? MS_REC : 0), null);
            if (fallback.Remount)
            {
                // The target descriptor still names the directory under the bind: remount the bind itself.
                using var mounted = Existing(root, m.Destination);
                Remount(RootPath.ProcPath(mounted), fallback.RemountFlags);
            }
        }
        if (covered is not null)
        {
            using var mounted = Existing(root, m.Destination);
            sys.CopyTree(RootPath.ProcPath(covered), RootPath.ProcPath(mounted));
        }
    }

    void Bind(BindMount b, IRootDirectory root)
    {
        var source = b.OpenedSource is { } opened ? RootPath.ProcPath(opened) : b.Source;
        var lastIsFile = false;
        if (b.Target == BindTarget.LikeSource)
        {
            var kind = sys.Stat(source);
            if (kind == PathKind.Missing && b.OpenedSource is null)
                throw Failure(b, $"bind source {source} does not exist");
            lastIsFile = kind != PathKind.Directory;
        }
        using (var target = root.OpenOrCreate(b.Destination, lastIsFile))
        {
            if (b.AttachDetached && b.OpenedSource is not null)
                sys.MoveMount(b.OpenedSource, target, b.Destination);
            else
                MountOrThrow(source, RootPath.ProcPath(target), null, MS_BIND | (b.Recursive ? MS_REC : 0), null);
        }
        if (b.Remount)
        {
            using var mounted = Existing(root, b.Destination);
            Remount(RootPath.ProcPath(mounted), MS_BIND | MS_REMOUNT | b.RemountFlags);
        }
    }

    void IdmappedBind(IdmappedBind b, IRootDirectory root)
    {
        var kind = sys.Stat(b.Source);
        if (kind == PathKind.Missing)
            throw Failure(b, $"bind source {b.Source} does not exist");
        using var tree = sys.OpenTreeClone(b.Source, b.RecursiveTree);
        using var userns = new FileDescriptor(b.UserNamespaceFd, ownsHandle: false);
        sys.SetIdmap(tree, userns, b.RecursiveIdmap, b.Source);
        using (var target = root.OpenOrCreate(b.Destination, lastIsFile: kind != PathKind.Directory))
            sys.MoveMount(tree, target, b.Destination);
        if (b.RemountFlags != 0)
        {
            using var mounted = Existing(root, b.Destination);
            Remount(RootPath.ProcPath(mounted), MS_BIND | MS_REMOUNT | b.RemountFlags);
        }
    }

    /// <summary>The device's parent directory, created when missing, and the device's name in it.</summary>
    static FileDescriptor DeviceParent(IRootDirectory root, string path, out string name)
    {
        var parentPath = Path.GetDirectoryName(path) ?? "/";
        name = Path.GetFileName(path);
        root.OpenOrCreate(parentPath, lastIsFile: false).Dispose();
        return root.OpenDirectory(parentPath);
    }

    void MakeDevice(MakeDevice d, IRootDirectory root)
    {
        using (var parent = DeviceParent(root, d.Destination, out var name))
        {
            sys.Unlink(parent, name); // a device of the config replaces whatever the image had there
            var errno = sys.MakeNode(parent, name, d.Mode, d.Device);
            if (errno == 0)
            {
                sys.Chown(parent, name, d.Uid, d.Gid, d.Destination);
                return;
            }
            if (errno != Errors.EPERM)
                throw new SyscallException("mknod", errno, d.Destination);
        }
        BindHostDevice(root, d.Destination);
    }

    /// <summary>The host's node at the same path, bound onto an empty file.</summary>
    void BindHostDevice(IRootDirectory root, string path)
    {
        using var target = root.OpenOrCreate(path, lastIsFile: true);
        MountOrThrow(path, RootPath.ProcPath(target), null, MS_BIND, null);
    }

    void Symlink(Symlink l, IRootDirectory root)
    {
        using var parent = root.OpenDirectory(Path.GetDirectoryName(l.Destination) ?? "/");
        var name = Path.GetFileName(l.Destination);
        if (l.Replace)
            sys.Unlink(parent, name);
        var errno = sys.Symlink(l.Target, parent, name);
        if (errno != 0 && errno != Errors.EEXIST)
            throw new SyscallException("symlink", errno, l.Destination);
    }

    void Pivot(string rootfs)
    {
        using var oldRoot = sys.OpenDirectory("/");
        using var newRoot = sys.OpenDirectory(rootfs);
        sys.ChangeDirectory(newRoot, rootfs);
        // pivot_root(".", ".") stacks the old root on top of the new one; then detach it.
        sys.PivotRoot(".", ".");
        sys.ChangeDirectory(oldRoot, "old root");
        MountOrThrow(null, ".", null, MS_SLAVE | MS_REC, null);
        sys.Unmount(".", MNT_DETACH, "old root");
        sys.ChangeDirectory("/");
    }

    void Mask(string path)
    {
        if (sys.Stat(path) == PathKind.Directory)
        {
            var errno = sys.Mount("tmpfs", path, "tmpfs", MS_RDONLY, null);
            if (errno != 0 && errno != Errors.ENOENT)
                throw new SyscallException("mask", errno, path);
        }
        else
        {
            var errno = sys.Mount("/dev/null", path, null, MS_BIND, null);
            if (errno != 0 && errno is not (Errors.ENOENT or Errors.ENOTDIR))
                throw new SyscallException("mask", errno, path);
        }
    }

    void MakeReadonly(string path)
    {
        var errno = sys.Mount(path, path, null, MS_BIND | MS_REC, null);
        if (errno == Errors.ENOENT)
            return;
        if (errno != 0)
            throw new SyscallException("bind", errno, path);
        Remount(path, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC);
    }

    /// <summary>Remounts, keeping the flags the kernel locks for a user namespace (nosuid, nodev, noexec, atime).</summary>
    void Remount(string target, ulong flags)
    {
        var errno = sys.Mount(null, target, null, flags, null);
        if (errno == 0)
            return;
        if (errno != Errors.EPERM)
            throw new SyscallException("remount", errno, target);
        var locked = sys.MountFlagsOf(target) & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
        MountOrThrow(null, target, null, flags | locked, null);
    }

    void MountOrThrow(string? source, string target, string? type, ulong flags, string? data)
    {
        var errno = sys.Mount(source, target, type, flags, data);
        if (errno != 0)
            throw new SyscallException("mount", errno, $"{source ?? "none"} on {target} (type {type ?? "none"})");
    }
}
