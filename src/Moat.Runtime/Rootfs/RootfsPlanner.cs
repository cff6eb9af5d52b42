using Moat.Oci;
using Moat.Runtime.Protocol;
using Moat.Runtime.Create;
using static Moat.Interop.Libc;

namespace Moat.Runtime.Rootfs;

/// <summary>The facts of the host a rootfs plan depends on; asked only when a decision needs them.</summary>
public interface IRootfsHostFacts
{
    /// <summary>Whether /proc/kcore exists (then /dev/core links to it, as runc makes it).</summary>
    bool HasKcore { get; }

    /// <summary>The mount point of the mount that holds <paramref name="path"/> (from /proc/self/mountinfo).</summary>
    string MountPointOf(string path);
}

/// <summary>
/// Decides the container's filesystem view: from the init message (the config, the descriptors the
/// runtime opened, the cgroup hierarchies) and the namespaces, the ordered steps the init performs.
/// Pure: it calls nothing but <see cref="IRootfsHostFacts"/>; what only the filesystem can tell at
/// the moment a step runs (is a target a directory, does a source exist) is left to the executor.
/// </summary>
public static class RootfsPlanner
{
    static readonly StepOrigin RootPropagation = new("linux.rootfsPropagation");
    static readonly StepOrigin RootPathOrigin = new("root.path");
    static readonly StepOrigin DevOrigin = new("/dev");
    const ulong LockableFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

    public static RootfsPlan Plan(InitMessage init, NamespacePlan namespaces, IRootfsHostFacts host)
    {
        var rootfs = init.Rootfs;
        // No mount namespace: the container shares the runtime's mounts, so nothing may be mounted;
        // it only gets root.path as its root (an exec into it too).
        if (!namespaces.HasMountNamespace)
            return init.Exec
                ? new RootfsPlan([], [new Chroot(RootPathOrigin, rootfs)])
                : new RootfsPlan([new Checkpoint(RootPathOrigin, RootfsCheckpoint.BeforePivot)], [new Chroot(RootPathOrigin, rootfs)]);
        // A joined mount namespace is the container's own: built at create, as a new one (runc does).
        if (init.Exec)
            return RootfsPlan.Nothing;

        var spec = init.Spec;
        var inUserNamespace = namespaces.NewUser || namespaces.JoinsUser;
        var steps = new List<RootfsStep>(32);
        var propagation = MountOptions.ParsePropagation(spec.Linux?.RootfsPropagation);
        steps.Add(new SetUmask(RootPathOrigin, 0));
        // Nothing done here may reach the host's mounts: make "/" a slave (or what the config asks) first.
        steps.Add(propagation != 0
            ? new ChangePropagation(RootPropagation, "/", propagation, InRoot: false)
            : new ChangePropagation(RootPathOrigin, "/", MS_SLAVE | MS_REC, InRoot: false));
        // pivot_root refuses a new root whose parent mount is shared: make that one mount private.
        steps.Add(new ChangePropagation(RootPathOrigin, host.MountPointOf(Path.GetDirectoryName(rootfs) ?? "/"), MS_PRIVATE, InRoot: false));
        var rootPath = rootfs;
        if (init.BindSourceFds is { } opened && opened.TryGetValue(BindSources.RootTree, out var tree) && opened.TryGetValue(BindSources.RootTarget, out var rootTarget))
        {
            steps.Add(new AttachRoot(RootPathOrigin, rootfs, tree, rootTarget));
            rootPath = RootPath.ProcPath(tree);
        }
        else
            steps.Add(new HostMount(RootPathOrigin, rootfs, rootfs, "bind", MS_BIND | MS_REC));
        steps.Add(new OpenRoot(RootPathOrigin, rootPath));

        var mounts = spec.Mounts ?? [];
        bool devIsBound = false, hasDevPts = false;
        for (var i = 0; i < mounts.Count; i++)
        {
            var mount = mounts[i];
            var destination = Normalize(mount.Destination);
            var type = mount.Type ?? "";
            var origin = new StepOrigin("mounts", i);
            MountOptions options;
            try
            {
                options = MountOptions.Parse(type, mount.Options);
            }
            catch (RuntimeException e)
            {
                throw new RuntimeException($"{origin} ({destination}): {e.Message}", e);
            }
            if (destination == "/dev" && options.Bind)
                devIsBound = true;
            if (destination == "/dev/pts")
                hasDevPts = true;
            PlanMount(steps, init, mount, origin, destination, type, options);
        }

        if (!devIsBound)
        {
            foreach (var device in Devices.Defaults)
                steps.Add(PlanDevice(DevOrigin, device, inUserNamespace));
            foreach (var (link, target) in Devices.Links(host.HasKcore))
                steps.Add(new Symlink(DevOrigin, link, target));
            if (hasDevPts)
                steps.Add(new Symlink(DevOrigin, "/dev/ptmx", "pts/ptmx", Replace: true));
        }
        var devices = spec.Linux?.Devices ?? [];
        for (var i = 0; i < devices.Count; i++)
            steps.Add(PlanDevice(new StepOrigin("linux.devices", i), devices[i], inUserNamespace));

        // The working directory exists inside the root (created like runc does when missing).
        if (spec.Process?.Cwd is { Length: > 0 } cwd)
            steps.Add(new MakeDirectory(new StepOrigin("process.cwd"), cwd));

        steps.Add(new Checkpoint(RootPathOrigin, RootfsCheckpoint.BeforePivot));
        steps.Add(init.NoPivot ? new MoveRootAndChroot(RootPathOrigin, rootPath) : new PivotRoot(RootPathOrigin, rootPath));

        var finish = new List<RootfsStep>();
        var masked = spec.Linux?.MaskedPaths ?? [];
        for (var i = 0; i < masked.Count; i++)
            finish.Add(new MaskPath(new StepOrigin("linux.maskedPaths", i), masked[i]));
        var readonlyPaths = spec.Linux?.ReadonlyPaths ?? [];
        for (var i = 0; i < readonlyPaths.Count; i++)
            finish.Add(new ReadonlyPath(new StepOrigin("linux.readonlyPaths", i), readonlyPaths[i]));
        if (spec.Root?.Readonly == true)
            finish.Add(new Remount(new StepOrigin("root.readonly"), "/", MS_BIND | MS_REMOUNT | MS_RDONLY, InRoot: false));
        if (propagation != 0)
            finish.Add(new ChangePropagation(RootPropagation, "/", propagation, InRoot: false));
        return new RootfsPlan(steps, finish);
    }

    static void PlanMount(List<RootfsStep> steps, InitMessage init, Mount mount, StepOrigin origin, string destination, string type, MountOptions options)
    {
        if (init.BindSourceFds?.TryGetValue(origin.Index, out var opened) == true)
        {
            steps.Add(new BindMount(origin, destination, mount.Source ?? "", BindTarget.LikeSource, options.RecursiveBind,
                NeedsRemount(options), options.RemountFlags, opened, AttachDetached: IdmapNamespaces.IsIdmapped(mount)));
        }
        else if (init.IdmapFds?.TryGetValue(origin.Index, out var usernsFd) == true)
        {
            if (!options.Bind)
                throw new RuntimeException("idmapped mounts (uidMappings/gidMappings) are supported for bind mounts only");
            var recursiveIdmap = options.RecursiveBind || (mount.Options ?? []).Contains("ridmap");
            steps.Add(new IdmappedBind(origin, destination, BindSource(init, mount, origin, destination), options.RecursiveBind, recursiveIdmap,
                usernsFd, options.RemountFlags));
        }
        else if (options.Bind)
        {
            steps.Add(new BindMount(origin, destination, BindSource(init, mount, origin, destination), BindTarget.LikeSource, options.RecursiveBind,
                NeedsRemount(options), options.RemountFlags));
        }
        else if (type is "cgroup" or "cgroup2")
        {
            steps.Add(new Checkpoint(origin, RootfsCheckpoint.CgroupPlacement));
            PlanCgroupTree(steps, init, origin, destination, options);
        }
        else
        {
            var flags = options.Flags & ~MS_REMOUNT;
            var data = options.Data.Length > 0 ? options.Data : null;
            // An SELinux mount label reaches the filesystem as its context= option (as runc formats it).
            if (init.Spec.Linux?.MountLabel is { Length: > 0 } label && type is not ("proc" or "sysfs" or "mqueue"))
                data = data is null ? $"context=\"{label}\"" : $"{data},context=\"{label}\"";
            // Without its own network (sysfs) or ipc (mqueue) namespace, a user namespace may not mount
            // these: bind the host's instead, as runc does.
            var fallback = type switch
            {
                "sysfs" => new MountFallback(Interop.Errors.EPERM, "/sys", Recursive: true, Remount: true,
                    MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | (flags & MS_RDONLY)),
                "mqueue" => new MountFallback(Interop.Errors.EPERM, "/dev/mqueue", Recursive: false, Remount: false, 0),
                _ => null,
            };
            steps.Add(new MountFilesystem(origin, destination, mount.Source ?? type, type, flags, data, options.CopyUp, fallback));
        }

        if (options.RecursiveSet != 0 || options.RecursiveClear != 0)
            steps.Add(new SetRecursiveAttributes(origin, destination, options.RecursiveSet, options.RecursiveClear));
        foreach (var change in options.Propagation)
            steps.Add(new ChangePropagation(origin, destination, change, InRoot: true));
    }

    /// <summary>A bind mount's flags (ro, nosuid, ...) take a second call; so does clearing one.</summary>
    static bool NeedsRemount(MountOptions options) => options.RemountFlags != 0 || options.ClearedFlags != 0;

    static string BindSource(InitMessage init, Mount mount, StepOrigin origin, string destination) =>
        Path.GetFullPath(mount.Source ?? throw new RuntimeException($"{origin} ({destination}): a bind mount needs a source"), init.Bundle);

    /// <summary>
    /// /sys/fs/cgroup: the unified hierarchy where the host is pure v2; on a v1 host a tmpfs holding
    /// one bind mount of the container's own cgroup per hierarchy (the layout runc gives).
    /// </summary>
    static void PlanCgroupTree(List<RootfsStep> steps, InitMessage init, StepOrigin origin, string destination, MountOptions options)
    {
        var flags = options.Flags & ~MS_REMOUNT;
        var hierarchies = init.CgroupHierarchies;
        var pureV2 = hierarchies.Count > 0;
        foreach (var hierarchy in hierarchies)
            pureV2 &= hierarchy.IsV2;
        if (pureV2)
        {
            // Outside a cgroup namespace the kernel would show the whole tree: bind our own cgroup.
            steps.Add(new MountFilesystem(origin, destination, "cgroup2", "cgroup2", flags, null,
                Fallback: new MountFallback(0, hierarchies[0].Directory, Recursive: true, Remount: true, MS_BIND | MS_REMOUNT | flags)));
            return;
        }
        steps.Add(new MountFilesystem(origin, destination, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755"));
        foreach (var hierarchy in hierarchies)
        {
            var sub = $"{destination}/{hierarchy.Name}";
            // cpu,cpuacct is reached as cpu and cpuacct too.
            var aliases = hierarchy.Name.Contains(',') ? hierarchy.Name.Split(',') : [];
            // The runtime made the container's directories before it placed the init (the checkpoint
            // before this mount): one missing now is a hierarchy the container has no cgroup in.
            steps.Add(new SkipUnlessHostDirectory(origin, hierarchy.Directory, 1 + aliases.Length));
            steps.Add(new BindMount(origin, sub, hierarchy.Directory, BindTarget.Directory, Recursive: false,
                Remount: true, flags & LockableFlags));
            foreach (var alias in aliases)
                steps.Add(new Symlink(origin, $"{destination}/{alias}", hierarchy.Name));
        }
        if ((flags & MS_RDONLY) != 0)
            steps.Add(new Remount(origin, destination, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, InRoot: true));
    }

    /// <summary>A user namespace may not create device nodes: there the host's node is bound.</summary>
    static RootfsStep PlanDevice(StepOrigin origin, LinuxDevice device, bool inUserNamespace)
    {
        var path = Normalize(device.Path);
        if (inUserNamespace)
            return new BindDevice(origin, path);
        var mode = ((device.FileMode ?? 0x1b6 /* 0666 */) & 0xfff) | Devices.TypeBits(device.Type);
        return new MakeDevice(origin, path, mode, Devices.MakeDev(device.Major ?? 0, device.Minor ?? 0), device.Uid ?? 0, device.Gid ?? 0);
    }

    static string Normalize(string destination) => "/" + string.Join('/', destination.Split('/', StringSplitOptions.RemoveEmptyEntries));
}
