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
    public static void Mount(IReadOnlyList<string> lowerTopFirst, string? upper, string? work, string target, bool userXattr = false)
    {
        if (lowerTopFirst.Count == 0)
            throw new ArgumentException("an overlay needs at least one lower directory");
        using var mount = CreateDetached(lowerTopFirst, upper, work, userXattr);
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
