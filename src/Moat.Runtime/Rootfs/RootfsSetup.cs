using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Create;
using Moat.Runtime.Protocol;
using static Moat.Interop.Libc;

namespace Moat.Runtime.Rootfs;

/// <summary>
/// Builds the container's filesystem view inside its new mount namespace: the mounts of the config
/// (every target resolved inside the rootfs), /dev, pivot_root, masked and read-only paths.
/// </summary>
public sealed class RootfsSetup(InitMessage init, bool inUserNamespace, Action? beforePivot = null, Action? beforeCgroupMount = null)
{
    readonly Spec spec = init.Spec;

    public void Prepare()
    {
        var rootfs = init.Rootfs;
        // Modes in the config (devices, directories) are meant literally; the process's umask comes at exec.
        umask(0);
        var propagation = MountOptions.ParsePropagation(spec.Linux?.RootfsPropagation);
        // Nothing done here may reach the host's mounts: make "/" a slave (or what the config asks) first.
        Mount(null, "/", null, propagation != 0 ? propagation : MS_SLAVE | MS_REC, null);
        MakeParentMountPrivate(rootfs);
        Mount(rootfs, rootfs, "bind", MS_BIND | MS_REC, null);

        using var rootFd = Open(rootfs, O_PATH | O_DIRECTORY);
        var root = new RootPath(rootFd, rootfs);
        var mounts = spec.Mounts ?? [];
        for (var i = 0; i < mounts.Count; i++)
        {
            try
            {
                MountOne(root, mounts[i], i);
            }
            catch (Exception e) when (e is SyscallException or IOException)
            {
                throw new RuntimeException($"mounts[{i}] ({mounts[i].Destination}): {(e is SyscallException ? e.Message : Oci.ErrorText.Of(e))}", e);
            }
        }

        var devIsBound = mounts.Any(m => Normalize(m.Destination) == "/dev" && MountOptions.Parse(m.Type ?? "", m.Options).Bind);
        if (!devIsBound)
        {
            foreach (var device in Devices.Defaults)
                CreateDevice(root, device);
            foreach (var (link, target) in Devices.Links(File.Exists("/proc/kcore")))
                Symlink(root, target, link);
            if (mounts.Any(m => Normalize(m.Destination) == "/dev/pts"))
                Symlink(root, "pts/ptmx", "/dev/ptmx", replace: true);
        }
        foreach (var device in spec.Linux?.Devices ?? [])
            CreateDevice(root, device);

        // The working directory exists inside the root (created like runc does when missing).
        var cwd = spec.Process?.Cwd;
        if (!string.IsNullOrEmpty(cwd))
        {
            try
            {
                root.OpenOrCreate(cwd, lastIsFile: false).Dispose();
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"process.cwd {cwd}: {e.Message}", e);
            }
        }

        // Hooks run here: prestart/createRuntime by the runtime, createContainer in this namespace.
        beforePivot?.Invoke();
        if (init.NoPivot)
            ChrootInto(rootfs);
        else
            PivotInto(rootfs);
    }

    /// <summary>After sysctls are written: masked and read-only paths, a read-only root, the root's propagation.</summary>
    public void Finish()
    {
        var propagation = MountOptions.ParsePropagation(spec.Linux?.RootfsPropagation);
        foreach (var path in spec.Linux?.MaskedPaths ?? [])
            MaskPath(path);
        foreach (var path in spec.Linux?.ReadonlyPaths ?? [])
            ReadonlyPath(path);
        if (spec.Root?.Readonly == true)
            Remount("/", MS_BIND | MS_REMOUNT | MS_RDONLY);
        if (propagation != 0)
            Mount(null, "/", null, propagation, null);
    }

    static string Normalize(string destination) => "/" + string.Join('/', destination.Split('/', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>pivot_root refuses a new root whose parent mount is shared: make that one mount private.</summary>
    static void MakeParentMountPrivate(string rootfs)
    {
        var parent = Path.GetDirectoryName(rootfs) ?? "/";
        var best = "/";
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length < 5)
                continue;
            var mountPoint = fields[4];
            var under = parent == mountPoint || parent.StartsWith(mountPoint.TrimEnd('/') + "/", StringComparison.Ordinal);
            if (under && mountPoint.Length > best.Length)
                best = mountPoint;
        }
        Mount(null, best, null, MS_PRIVATE, null);
    }

    void MountOne(RootPath root, Oci.Mount mount, int index)
    {
        var destination = Normalize(mount.Destination);
        var type = mount.Type ?? "";
        var options = MountOptions.Parse(type, mount.Options);

        if (init.BindSourceFds?.Remove(index, out var opened) == true)
        {
            using (opened)
                MountBind(root, mount, index, destination, options, opened);
        }
        else if (init.IdmapFds?.TryGetValue(index, out var usernsFd) == true)
            MountIdmapped(root, mount, index, destination, options, usernsFd);
        else if (options.Bind)
            MountBind(root, mount, index, destination, options, opened: null);
        else if (type == "cgroup" || type == "cgroup2")
        {
            beforeCgroupMount?.Invoke();
            MountCgroupTree(root, destination, options);
        }
        else
        {
            using var target = root.OpenOrCreate(destination, lastIsFile: false);
            // tmpcopyup: a descriptor of the directory taken before the tmpfs covers it still reaches
            // what the image has there, to copy into the new tmpfs.
            using var covered = options.CopyUp ? Open(RootPath.ProcPath(target), O_RDONLY | O_DIRECTORY) : null;
            MountFilesystem(mount.Source, RootPath.ProcPath(target), type, options, destination);
            if (covered is not null)
            {
                using var mounted = root.TryOpen(destination)!;
                CopyTree(RootPath.ProcPath(covered), RootPath.ProcPath(mounted));
            }
        }

        if (options.RecursiveSet != 0 || options.RecursiveClear != 0)
        {
            using var mounted = root.TryOpen(destination)!;
            MountSetAttr(RootPath.ProcPath(mounted), options.RecursiveSet, options.RecursiveClear, recursive: true);
        }
        foreach (var propagation in options.Propagation)
        {
            using var mounted = root.TryOpen(destination)!;
            Mount(null, RootPath.ProcPath(mounted), null, propagation, null);
        }
    }

    /// <summary>
    /// A bind mount, from its source path or from the source the runtime opened (BindSources): an O_PATH
    /// descriptor bound through /proc/self/fd, or a detached (and idmapped) tree attached with move_mount.
    /// </summary>
    void MountBind(RootPath root, Oci.Mount mount, int index, string destination, MountOptions options, FileDescriptor? opened)
    {
        var source = opened is null ? BindSource(mount, index, destination) : RootPath.ProcPath(opened);
        using (var target = root.OpenOrCreate(destination, lastIsFile: !Directory.Exists(source)))
        {
            if (opened is not null && IdmapNamespaces.IsIdmapped(mount))
                MoveMount(opened, target, destination);
            else
                Mount(source, RootPath.ProcPath(target), null, MS_BIND | (options.RecursiveBind ? MS_REC : 0), null);
        }
        var remount = options.RemountFlags;
        if (remount != 0 || options.ClearedFlags != 0)
        {
            using var mounted = root.TryOpen(destination)!;
            Remount(RootPath.ProcPath(mounted), MS_BIND | MS_REMOUNT | remount);
        }
    }

    string BindSource(Oci.Mount mount, int index, string destination)
    {
        var source = Path.GetFullPath(mount.Source ?? throw new RuntimeException($"mounts[{index}] ({destination}): a bind mount needs a source"), init.Bundle);
        return Path.Exists(source) ? source : throw new RuntimeException($"mounts[{index}] ({destination}): bind source {source} does not exist");
    }

    /// <summary>
    /// A bind mount whose ids are mapped through a user namespace: a detached copy of the source
    /// (open_tree), the idmap set on it (mount_setattr), attached at the target (move_mount).
    /// </summary>
    void MountIdmapped(RootPath root, Oci.Mount mount, int index, string destination, MountOptions options, int usernsFd)
    {
        if (!options.Bind)
            throw new RuntimeException("idmapped mounts (uidMappings/gidMappings) are supported for bind mounts only");
        var source = BindSource(mount, index, destination);
        var recursive = options.RecursiveBind || (mount.Options ?? []).Contains("ridmap");
        using var tree = OpenTreeClone(source, options.RecursiveBind);
        using var userns = new FileDescriptor(usernsFd, ownsHandle: false);
        SetIdmap(tree, userns, recursive, source);
        using (var target = root.OpenOrCreate(destination, lastIsFile: !Directory.Exists(source)))
            MoveMount(tree, target, destination);
        if (options.RemountFlags != 0)
        {
            using var mounted = root.TryOpen(destination)!;
            Remount(RootPath.ProcPath(mounted), MS_BIND | MS_REMOUNT | options.RemountFlags);
        }
    }

    void MountFilesystem(string? source, string target, string type, MountOptions options, string destination)
    {
        var flags = options.Flags & ~MS_REMOUNT;
        var data = options.Data.Length > 0 ? options.Data : null;
        // An SELinux mount label reaches the filesystem as its context= option (as runc formats it).
        if (spec.Linux?.MountLabel is { Length: > 0 } label && type is not ("proc" or "sysfs" or "cgroup" or "cgroup2" or "mqueue"))
            data = data is null ? $"context=\"{label}\"" : $"{data},context=\"{label}\"";
        if (mount(source ?? type, target, type, flags, data) == 0)
            return;
        var errno = Errors.LastErrno;
        // Without its own network (sysfs) or ipc (mqueue) namespace, a user namespace may not mount
        // these: bind the host's instead, as runc does.
        if (errno == Errors.EPERM && type == "sysfs")
        {
            Mount("/sys", target, null, MS_BIND | MS_REC, null);
            Remount(target, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | (flags & MS_RDONLY));
            return;
        }
        if (errno == Errors.EPERM && type == "mqueue")
        {
            Mount("/dev/mqueue", target, null, MS_BIND, null);
            return;
        }
        throw new SyscallException("mount", errno, $"{source ?? type} on {destination} (type {type})");
    }

    /// <summary>
    /// /sys/fs/cgroup: the unified hierarchy where the host is pure v2; on a v1 host a tmpfs holding
    /// one bind mount of the container's own cgroup per hierarchy (the layout runc gives).
    /// </summary>
    void MountCgroupTree(RootPath root, string destination, MountOptions options)
    {
        var flags = options.Flags & ~MS_REMOUNT;
        var pureV2 = init.CgroupHierarchies.Count > 0 && init.CgroupHierarchies.All(h => h.IsV2);
        if (pureV2)
        {
            using var target = root.OpenOrCreate(destination, lastIsFile: false);
            var targetPath = RootPath.ProcPath(target);
            if (mount("cgroup2", targetPath, "cgroup2", flags, null) < 0)
            {
                // Outside a cgroup namespace the kernel would show the whole tree: bind our own cgroup.
                Mount(init.CgroupHierarchies[0].Directory, targetPath, null, MS_BIND | MS_REC, null);
                Remount(targetPath, MS_BIND | MS_REMOUNT | flags);
            }
            return;
        }
        using (var target = root.OpenOrCreate(destination, lastIsFile: false))
            Mount("tmpfs", RootPath.ProcPath(target), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
        foreach (var hierarchy in init.CgroupHierarchies)
        {
            if (!Directory.Exists(hierarchy.Directory))
                continue;
            using var sub = root.OpenOrCreate($"{destination}/{hierarchy.Name}", lastIsFile: false);
            var subPath = RootPath.ProcPath(sub);
            Mount(hierarchy.Directory, subPath, null, MS_BIND, null);
            using var mounted = root.TryOpen($"{destination}/{hierarchy.Name}")!;
            Remount(RootPath.ProcPath(mounted), MS_BIND | MS_REMOUNT | (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)));
            // cpu,cpuacct is reached as cpu and cpuacct too.
            if (hierarchy.Name.Contains(','))
                foreach (var alias in hierarchy.Name.Split(','))
                    Symlink(root, hierarchy.Name, $"{destination}/{alias}");
        }
        if ((flags & MS_RDONLY) != 0)
        {
            using var top = root.TryOpen(destination)!;
            Remount(RootPath.ProcPath(top), MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        }
    }

    /// <summary>
    /// Copies a directory's contents with their modes and owners; symlinks are copied as links, never
    /// followed; device nodes, fifos and sockets are left out (runc copies files, dirs and links too).
    /// </summary>
    static void CopyTree(string source, string target)
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

    void CreateDevice(RootPath root, LinuxDevice device)
    {
        var path = Normalize(device.Path);
        var parentPath = Path.GetDirectoryName(path) ?? "/";
        var name = Path.GetFileName(path);
        using (root.OpenOrCreate(parentPath, lastIsFile: false)) { }
        using var parent = root.OpenDirectory(parentPath);
        unlinkat(parent.Fd, name, 0); // a device of the config replaces whatever the image had there
        var mode = (device.FileMode ?? 0x1b6) & 0xfff;
        if (!inUserNamespace && mknodat(parent.Fd, name, mode | Devices.TypeBits(device.Type), Devices.MakeDev(device.Major ?? 0, device.Minor ?? 0)) == 0)
        {
            Errors.Check(fchownat(parent.Fd, name, device.Uid ?? 0, device.Gid ?? 0, AT_SYMLINK_NOFOLLOW), "chown", path);
            return;
        }
        if (!inUserNamespace && Errors.LastErrno != Errors.EPERM)
            throw new SyscallException("mknod", Errors.LastErrno, path);
        // A user namespace may not create device nodes: bind the host's node onto an empty file.
        using var target = root.OpenOrCreate(path, lastIsFile: true);
        Mount(path, RootPath.ProcPath(target), null, MS_BIND, null);
    }

    static void Symlink(RootPath root, string target, string link, bool replace = false)
    {
        var parentPath = Path.GetDirectoryName(link) ?? "/";
        using var parent = root.OpenDirectory(parentPath);
        var name = Path.GetFileName(link);
        if (replace)
            unlinkat(parent.Fd, name, 0);
        if (symlinkat(target, parent.Fd, name) < 0 && Errors.LastErrno != Errors.EEXIST)
            throw new SyscallException("symlink", Errors.LastErrno, link);
    }

    static void PivotInto(string rootfs)
    {
        using var oldRoot = Open("/", O_RDONLY | O_DIRECTORY);
        using var newRoot = Open(rootfs, O_RDONLY | O_DIRECTORY);
        Errors.Check(fchdir(newRoot.Fd), "chdir", rootfs);
        // pivot_root(".", ".") stacks the old root on top of the new one; then detach it.
        PivotRoot(".", ".");
        Errors.Check(fchdir(oldRoot.Fd), "chdir", "old root");
        Mount(null, ".", null, MS_SLAVE | MS_REC, null);
        Errors.Check(umount2(".", MNT_DETACH), "umount", "old root");
        Errors.Check(chdir("/"), "chdir", "/");
    }

    /// <summary>
    /// A container without a mount namespace of its own shares the runtime's mounts (runtime-spec:
    /// it inherits the namespace), so nothing may be mounted: it only gets root.path as its root.
    /// </summary>
    public static void ChrootWithoutMounts(string rootfs)
    {
        Errors.Check(chdir(rootfs), "chdir", rootfs);
        Errors.Check(chroot("."), "chroot", rootfs);
        Errors.Check(chdir("/"), "chdir", "/");
    }

    static void ChrootInto(string rootfs)
    {
        Errors.Check(chdir(rootfs), "chdir", rootfs);
        Mount(rootfs, "/", null, MS_MOVE, null);
        Errors.Check(chroot("."), "chroot", rootfs);
        Errors.Check(chdir("/"), "chdir", "/");
    }

    static void MaskPath(string path)
    {
        if (Directory.Exists(path))
        {
            if (mount("tmpfs", path, "tmpfs", MS_RDONLY, null) < 0 && Errors.LastErrno != Errors.ENOENT)
                throw new SyscallException("mask", Errors.LastErrno, path);
        }
        else if (mount("/dev/null", path, null, MS_BIND, null) < 0 && Errors.LastErrno is not (Errors.ENOENT or Errors.ENOTDIR))
            throw new SyscallException("mask", Errors.LastErrno, path);
    }

    static void ReadonlyPath(string path)
    {
        if (mount(path, path, null, MS_BIND | MS_REC, null) < 0)
        {
            if (Errors.LastErrno == Errors.ENOENT)
                return;
            throw new SyscallException("bind", Errors.LastErrno, path);
        }
        Remount(path, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC);
    }

    /// <summary>Remounts, keeping the flags the kernel locks for a user namespace (nosuid, nodev, noexec, atime).</summary>
    static void Remount(string target, ulong flags)
    {
        if (mount(null, target, null, flags, null) == 0)
            return;
        if (Errors.LastErrno != Errors.EPERM)
            throw new SyscallException("remount", Errors.LastErrno, target);
        var locked = MountFlagsOf(target) & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_NOATIME | MS_NODIRATIME | MS_RELATIME);
        Libc.Mount(null, target, null, flags | locked, null);
    }

    static void Mount(string? source, string target, string? type, ulong flags, string? data) =>
        Libc.Mount(source, target, type, flags, data);
}
