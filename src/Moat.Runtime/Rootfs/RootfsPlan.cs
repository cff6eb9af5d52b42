using Moat.Interop;

namespace Moat.Runtime.Rootfs;

/// <summary>
/// What the init does to build the container's filesystem view, decided before anything is done
/// (<see cref="RootfsPlanner"/>) and applied by <see cref="RootfsExecutor"/>. <see cref="Setup"/>
/// runs before the process's sysctls are written and ends with pivot_root; <see cref="Finish"/>
/// runs after them (masked and read-only paths cover /proc/sys: runc's order).
/// </summary>
public sealed record RootfsPlan(IReadOnlyList<RootfsStep> Setup, IReadOnlyList<RootfsStep> Finish)
{
    /// <summary>An exec into a container with a mount namespace of its own: its root is built already.</summary>
    public static readonly RootfsPlan Nothing = new([], []);
}

/// <summary>Which part of the config a step carries out, for its error sentence: "mounts[3]", "linux.devices[0]", "/dev".</summary>
public readonly record struct StepOrigin(string Field, int Index = -1)
{
    public override string ToString() => Index < 0 ? Field : $"{Field}[{Index}]";
}

/// <summary>
/// One operation of a plan. <see cref="Destination"/> is the path it acts on: inside the container's
/// root (resolved there with openat2 RESOLVE_IN_ROOT, never followed out of it) for the steps between
/// <see cref="OpenRoot"/> and the pivot, as the process sees it for the others.
/// </summary>
public abstract record RootfsStep(StepOrigin Origin, string Destination);

/// <summary>umask(2): the modes the config gives (devices, directories) are meant literally.</summary>
public sealed record SetUmask(StepOrigin Origin, uint Mask) : RootfsStep(Origin, "/");

/// <summary>mount(2) with only a propagation flag (MS_SLAVE, MS_PRIVATE, ... and MS_REC).</summary>
public sealed record ChangePropagation(StepOrigin Origin, string Destination, ulong Flags, bool InRoot) : RootfsStep(Origin, Destination);

/// <summary>mount(2) on a host path (the bind of the rootfs onto itself).</summary>
public sealed record HostMount(StepOrigin Origin, string Destination, string? Source, string? Type, ulong Flags) : RootfsStep(Origin, Destination);

/// <summary>
/// The rootfs as a detached copy (<see cref="Tree"/>, open_tree of root.path) attached onto root.path
/// itself (<see cref="Target"/>), both opened by the runtime: a container root mapped to an
/// unprivileged host id may not be able to pass the directories above root.path (a 0700 bundle
/// directory), so every later step reaches the root through Tree, never by its path. The executor
/// owns both descriptors.
/// </summary>
public sealed record AttachRoot(StepOrigin Origin, string Destination, FileDescriptor Tree, FileDescriptor Target) : RootfsStep(Origin, Destination);

/// <summary>Opens the rootfs (after its bind onto itself): what the steps up to the pivot resolve paths in.</summary>
public sealed record OpenRoot(StepOrigin Origin, string Destination) : RootfsStep(Origin, Destination);

/// <summary>
/// A filesystem mounted on a directory of the root (created when missing). With <see cref="CopyUp"/>
/// (tmpcopyup) what the image had there is copied into the new tmpfs. <see cref="Fallback"/> is
/// what to do when the kernel refuses the mount.
/// </summary>
public sealed record MountFilesystem(StepOrigin Origin, string Destination, string Source, string Type, ulong Flags, string? Data,
    bool CopyUp = false, MountFallback? Fallback = null) : RootfsStep(Origin, Destination);

/// <summary>
/// When a filesystem mount fails with <see cref="OnErrno"/> (0: any error): bind <see cref="Source"/>
/// instead, then remount it with <see cref="RemountFlags"/> when <see cref="Remount"/>. A user
/// namespace without its own network namespace may not mount sysfs (bind the host's /sys), nor
/// without its own ipc namespace mqueue; a cgroup2 mount outside a cgroup namespace gets the
/// container's own cgroup directory.
/// </summary>
public sealed record MountFallback(int OnErrno, string Source, bool Recursive, bool Remount, ulong RemountFlags);

/// <summary>How a bind mount's target is created when it is missing.</summary>
public enum BindTarget
{
    /// <summary>A directory.</summary>
    Directory,

    /// <summary>What the source is: a directory for a directory, an empty file for anything else.
    /// The source must exist (checked when the step runs: an earlier mount may change it).</summary>
    LikeSource,
}

/// <summary>
/// A bind mount onto a path of the root: from <see cref="Source"/>, or from the source the runtime
/// opened (<see cref="OpenedSource"/>, bound through /proc/self/fd, or attached with move_mount when
/// <see cref="AttachDetached"/>: a detached, idmapped tree). The step owns OpenedSource and closes it.
/// A bind ignores flags: with <see cref="Remount"/> a second call applies <see cref="RemountFlags"/>.
/// </summary>
public sealed record BindMount(StepOrigin Origin, string Destination, string Source, BindTarget Target, bool Recursive,
    bool Remount, ulong RemountFlags, FileDescriptor? OpenedSource = null, bool AttachDetached = false) : RootfsStep(Origin, Destination);

/// <summary>
/// A bind mount whose ids are mapped through a user namespace (given by descriptor): a detached copy
/// of the source (open_tree), the idmap set on it (mount_setattr), attached at the target (move_mount).
/// </summary>
public sealed record IdmappedBind(StepOrigin Origin, string Destination, string Source, bool RecursiveTree, bool RecursiveIdmap,
    int UserNamespaceFd, ulong RemountFlags) : RootfsStep(Origin, Destination);

/// <summary>mount_setattr(2) with AT_RECURSIVE: the "rro", "rnosuid", ... options.</summary>
public sealed record SetRecursiveAttributes(StepOrigin Origin, string Destination, ulong Set, ulong Clear) : RootfsStep(Origin, Destination);

/// <summary>
/// mount(2) with MS_REMOUNT; where a user namespace locked flags of the mount (nosuid, nodev,
/// noexec, atime), the kernel refuses a remount that drops them: they are kept.
/// </summary>
public sealed record Remount(StepOrigin Origin, string Destination, ulong Flags, bool InRoot) : RootfsStep(Origin, Destination);

/// <summary>Skips the next <see cref="Count"/> steps unless the host path is a directory (a cgroup hierarchy the container has no directory in).</summary>
public sealed record SkipUnlessHostDirectory(StepOrigin Origin, string Destination, int Count) : RootfsStep(Origin, Destination);

/// <summary>A device node made with mknod (whatever the image had there replaced), owned by uid:gid; where mknod is refused, the host's node is bound instead.</summary>
public sealed record MakeDevice(StepOrigin Origin, string Destination, uint Mode, ulong Device, uint Uid, uint Gid) : RootfsStep(Origin, Destination);

/// <summary>The host's device node bound onto an empty file: a user namespace may not mknod.</summary>
public sealed record BindDevice(StepOrigin Origin, string Destination) : RootfsStep(Origin, Destination);

/// <summary>A symbolic link at <see cref="RootfsStep.Destination"/>; an existing entry is kept unless <see cref="Replace"/>.</summary>
public sealed record Symlink(StepOrigin Origin, string Destination, string Target, bool Replace = false) : RootfsStep(Origin, Destination);

/// <summary>A directory (and its parents) created when missing.</summary>
public sealed record MakeDirectory(StepOrigin Origin, string Destination) : RootfsStep(Origin, Destination);

/// <summary>Where the init stops for something that is not the plan's: hooks, or the runtime placing it in its cgroups.</summary>
public sealed record Checkpoint(StepOrigin Origin, RootfsCheckpoint Point) : RootfsStep(Origin, "");

public enum RootfsCheckpoint
{
    /// <summary>The runtime has placed the init in its cgroups (before a cgroupfs mount shows them).</summary>
    CgroupPlacement,

    /// <summary>The root is built, the host still reachable: prestart, createRuntime and createContainer hooks.</summary>
    BeforePivot,
}

/// <summary>pivot_root into the rootfs, the old root detached.</summary>
public sealed record PivotRoot(StepOrigin Origin, string Destination) : RootfsStep(Origin, Destination);

/// <summary>--no-pivot: the rootfs moved onto "/" and chrooted into.</summary>
public sealed record MoveRootAndChroot(StepOrigin Origin, string Destination) : RootfsStep(Origin, Destination);

/// <summary>chroot only: a container without a mount namespace of its own shares the runtime's mounts.</summary>
public sealed record Chroot(StepOrigin Origin, string Destination) : RootfsStep(Origin, Destination);

/// <summary>A masked path: a directory covered by an empty read-only tmpfs, anything else by /dev/null. A missing path is left alone.</summary>
public sealed record MaskPath(StepOrigin Origin, string Destination) : RootfsStep(Origin, Destination);

/// <summary>A read-only path: bound onto itself and remounted read-only, recursively. A missing path is left alone.</summary>
public sealed record ReadonlyPath(StepOrigin Origin, string Destination) : RootfsStep(Origin, Destination);
