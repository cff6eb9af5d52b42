using System.Runtime.InteropServices;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Rootfs;

namespace Moat.Runtime.Create;

/// <summary>
/// Bind mount sources of a container with a user namespace, opened by the runtime. The init mounts
/// as the container's root, which is an unprivileged user on the host: it can neither reach a source
/// under a directory only host root may enter, nor set an idmapping on a host filesystem (that needs
/// CAP_SYS_ADMIN over the filesystem's own user namespace). So the runtime, with its own credentials,
/// opens each source from inside the container's new mount namespace (native/spawn.c
/// moat_open_mount_sources): an O_PATH descriptor for a plain bind, which the init binds from
/// /proc/self/fd; a detached copy (open_tree) for an idmapped one, idmapped here and attached by the
/// init with move_mount. Opening in the container's namespace, not the host's, matters: the mounts
/// there are copies the kernel locked for the container's user namespace, so the container cannot
/// clear a host mount's ro/nosuid/nodev on its bind or unmount what covers a path below it; a copy
/// taken from the host's namespace would carry no such locks. runc 1.1 opens the sources of the same
/// mounts (bind mounts, user and mount namespace) the same way.
/// </summary>
public sealed class BindSources : IDisposable
{
    readonly List<FileDescriptor> opened = [];

    BindSources(List<int> mounts) => Mounts = mounts;

    /// <summary>
    /// The root's two entries in <see cref="Mounts"/>: a detached copy of root.path (open_tree) and the
    /// root.path directory it is attached onto (Rootfs/AttachRoot). The container's root may not pass
    /// the directories above root.path; the runtime can.
    /// </summary>
    public const int RootTree = -1, RootTarget = -2;

    /// <summary>The mounts (indices in spec.mounts, or <see cref="RootTree"/> and <see cref="RootTarget"/>) whose sources are opened, in the order they are sent.</summary>
    public List<int> Mounts { get; }

    string rootfs = "";

    /// <summary>
    /// The root and the bind mounts of a container whose init runs in a user namespace inside a mount
    /// namespace of its own; null otherwise (no work and no extra frame on the start path).
    /// </summary>
    public static BindSources? For(Spec spec, NamespacePlan plan, string rootfs)
    {
        if (!plan.BecomeRoot || !plan.HasMountNamespace)
            return null;
        List<int> opened = [RootTree, RootTarget];
        var mounts = spec.Mounts ?? [];
        for (var i = 0; i < mounts.Count; i++)
            if (MountOptions.Parse(mounts[i].Type ?? "", mounts[i].Options).Bind)
                opened.Add(i);
        return new BindSources(opened) { rootfs = rootfs };
    }

    /// <summary>
    /// Opens every source from inside the container's mount namespace and idmaps the idmapped ones.
    /// A source that is missing or cannot be opened fails the create with the mount named.
    /// </summary>
    public unsafe void Open(FileDescriptor mountNamespace, IReadOnlyList<Mount> mounts, string bundle, IdmapNamespaces idmaps)
    {
        var sources = new string[Mounts.Count];
        var requests = new MountSourceRequest[Mounts.Count];
        var paths = new IntPtr[Mounts.Count];
        try
        {
            for (var k = 0; k < Mounts.Count; k++)
            {
                if (Mounts[k] < 0)
                {
                    // The root: an rbind-like copy of the whole tree, and the directory it goes onto.
                    sources[k] = rootfs;
                    paths[k] = Marshal.StringToCoTaskMemUTF8(rootfs);
                    requests[k] = new MountSourceRequest { Path = (byte*)paths[k], CloneTree = Mounts[k] == RootTree ? 1 : 0, Recursive = 1, Fd = -1 };
                    continue;
                }
                var mount = mounts[Mounts[k]];
                sources[k] = Path.GetFullPath(mount.Source ?? throw Failure(Mounts[k], mount, "a bind mount needs a source"), bundle);
                paths[k] = Marshal.StringToCoTaskMemUTF8(sources[k]);
                requests[k] = new MountSourceRequest
                {
                    Path = (byte*)paths[k],
                    CloneTree = IdmapNamespaces.IsIdmapped(mount) ? 1 : 0,
                    Recursive = MountOptions.Parse(mount.Type ?? "", mount.Options).RecursiveBind ? 1 : 0,
                    Fd = -1,
                };
            }
            int rc;
            fixed (MountSourceRequest* p = requests)
                rc = NativeSpawn.OpenMountSources(mountNamespace.Fd, p, requests.Length);
            // Owned before anything can throw: every descriptor the child opened is closed on failure.
            foreach (var request in requests)
                if (request.Fd >= 0)
                    opened.Add(new FileDescriptor(request.Fd));
            if (rc < 0)
                throw new RuntimeException($"cannot open the bind mount sources in the container's mount namespace: {Errors.Describe(-rc)}");
            var next = 0;
            for (var k = 0; k < Mounts.Count; k++)
            {
                if (Mounts[k] < 0)
                {
                    if (requests[k].Fd < 0)
                        throw new RuntimeException($"root.path ({rootfs}): " + (requests[k].Error == Errors.ENOENT
                            ? "the rootfs does not exist" : $"cannot open the rootfs: {Errors.Describe(requests[k].Error)}"));
                    next++;
                    continue;
                }
                var mount = mounts[Mounts[k]];
                if (requests[k].Fd < 0)
                    throw Failure(Mounts[k], mount, requests[k].Error == Errors.ENOENT
                        ? $"bind source {sources[k]} does not exist"
                        : $"cannot open bind source {sources[k]}: {Errors.Describe(requests[k].Error)}");
                var source = opened[next++];
                if (requests[k].CloneTree == 0)
                    continue;
                if (!idmaps.FdsByMount.TryGetValue(Mounts[k], out var usernsFd))
                    throw Failure(Mounts[k], mount, "an idmapped mount needs both uidMappings and gidMappings");
                using var userns = new FileDescriptor(usernsFd, ownsHandle: false);
                try
                {
                    // Before the tree is attached anywhere: the kernel idmaps only mounts never seen in a namespace.
                    Libc.SetIdmap(source, userns, recursive: requests[k].Recursive != 0 || (mount.Options ?? []).Contains("ridmap"), sources[k]);
                }
                catch (SyscallException e)
                {
                    throw Failure(Mounts[k], mount, e.Message);
                }
            }
        }
        finally
        {
            foreach (var p in paths)
                Marshal.FreeCoTaskMem(p);
        }
    }

    static RuntimeException Failure(int index, Mount mount, string what) => new($"mounts[{index}] ({mount.Destination}): {what}");

    /// <summary>
    /// The opened sources in Mounts order, once <see cref="Open"/> succeeded: sent after the config
    /// (SyncChannel.SendConfig), then closed here by <see cref="Dispose"/>.
    /// </summary>
    public IReadOnlyList<FileDescriptor> Opened => opened;

    public void Dispose()
    {
        foreach (var fd in opened)
            fd.Dispose();
        opened.Clear();
    }
}
