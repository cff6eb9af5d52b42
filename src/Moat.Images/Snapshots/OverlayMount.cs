using Moat.Interop;

namespace Moat.Images.Snapshots;

/// <summary>Mounts an overlay of layer directories (top first) with an optional upper and work directory.</summary>
public static class OverlayMount
{
    /// <summary>
    /// Mounts the overlay on <paramref name="target"/>. Each lower directory is its own lowerdir+ option
    /// (Linux 6.8), so there is no option-string limit on the number of layers; older kernels get one
    /// lowerdir option, which must fit a page.
    /// </summary>
    /// <param name="idmap">
    /// A user namespace whose maps every lower directory is seen through (an idmapped mount of each,
    /// given to overlay as a descriptor: Linux 6.13): image files owned by 0 on disk belong to the
    /// container's root inside its user namespace, and the shared layers stay unchanged on disk.
    /// </param>
    public static void Mount(IReadOnlyList<string> lowerTopFirst, string? upper, string? work, string target, bool userXattr = false, FileDescriptor? idmap = null)
    {
        if (lowerTopFirst.Count == 0)
            throw new ArgumentException("an overlay needs at least one lower directory");
        using var mount = idmap is null ? CreateDetached(lowerTopFirst, upper, work, userXattr) : CreateIdmapped(lowerTopFirst, upper, work, idmap);
        using var at = Libc.Open(target, Libc.O_PATH | Libc.O_DIRECTORY);
        Libc.MoveMount(mount, at, target);
    }

    static FileDescriptor CreateDetached(IReadOnlyList<string> lowers, string? upper, string? work, bool userXattr)
    {
        using var context = FsContext.Open("overlay");
        var errno = context.TrySet("lowerdir+", lowers[0]);
        if (errno == 0)
        {
            for (var i = 1; i < lowers.Count; i++)
                context.Set("lowerdir+", lowers[i]);
        }
        else if (errno == Errors.EINVAL)
        {
            foreach (var lower in lowers)
                if (lower.IndexOfAny([':', ',', '\\']) >= 0)
                    throw new ArgumentException($"the layer directory '{lower}' has a ':', ',' or '\\' in its path, which this kernel's overlay options cannot carry");
            var joined = string.Join(':', lowers);
            if (joined.Length > 4000)
                throw new InvalidOperationException($"this kernel takes overlay layers in one option of at most a page, and {lowers.Count} layers need {joined.Length} bytes; Linux 6.8 or later has no such limit");
            context.Set("lowerdir", joined);
        }
        else
            throw new SyscallException("fsconfig", errno, "overlay lowerdir+=" + lowers[0]);
        if (upper is not null)
        {
            context.Set("upperdir", upper);
            context.Set("workdir", work ?? throw new ArgumentException("an overlay with an upper directory needs a work directory"));
        }
        if (userXattr)
            context.SetFlag("userxattr");
        return context.CreateMount(0);
    }

    static FileDescriptor CreateIdmapped(IReadOnlyList<string> lowers, string? upper, string? work, FileDescriptor idmap)
    {
        using var context = FsContext.Open("overlay");
        // The idmapped copies must stay open until the superblock exists: a detached mount whose last
        // descriptor closes is dissolved, and overlay then refuses it as a layer.
        var layers = new List<FileDescriptor>();
        try
        {
            foreach (var lower in lowers)
            {
                var layer = Libc.OpenTreeClone(lower, recursive: false);
                layers.Add(layer);
                Libc.SetIdmap(layer, idmap, recursive: false, lower);
                var errno = context.TrySetFd("lowerdir+", layer);
                if (errno == Errors.EINVAL)
                    throw new InvalidOperationException("idmapped image layers need Linux 6.13 or later (overlay layers given as descriptors); run the container with --userns host");
                if (errno != 0)
                    throw new SyscallException("fsconfig", errno, "overlay lowerdir+ (idmapped) " + lower);
            }
            if (upper is not null)
            {
                context.Set("upperdir", upper);
                context.Set("workdir", work ?? throw new ArgumentException("an overlay with an upper directory needs a work directory"));
            }
            return context.CreateMount(0);
        }
        finally
        {
            foreach (var layer in layers)
                layer.Dispose();
        }
    }

    /// <summary>The first Linux that takes overlay layers as descriptors, which idmapped layers need.</summary>
    public static readonly Version IdmappedLayersSince = new(6, 13);

    /// <summary>Unmounts target; not mounted is fine. A busy mount is detached (it goes when its last user does).</summary>
    public static void Unmount(string target)
    {
        if (Libc.umount2(target, Libc.UMOUNT_NOFOLLOW) == 0)
            return;
        var errno = Errors.LastErrno;
        if (errno is Errors.EINVAL or Errors.ENOENT)
            return;
        if (errno == Errors.EBUSY && Libc.umount2(target, Libc.UMOUNT_NOFOLLOW | Libc.MNT_DETACH) == 0)
            return;
        throw new SyscallException("umount", errno == Errors.EBUSY ? Errors.LastErrno : errno, target);
    }
}
