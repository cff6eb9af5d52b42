using Moat.Interop;
using Moat.Oci;

namespace Moat.Engine.Containers;

/// <summary>
/// In a container with its own user namespace, bind mounts (volumes, host paths, /etc/hosts) are
/// idmapped with the container's maps: a file owned by uid N on disk is uid N inside, as without a
/// user namespace, so volumes and `-v` work as docker users expect, while the container's root is
/// still nobody to everything it was not given. Filesystems that cannot be idmapped are bound as
/// they are (their files show up as owned by nobody).
/// </summary>
public static class IdmappedBinds
{
    /// <summary>statfs f_type of the filesystems Linux idmaps (FS_ALLOW_IDMAP): ext4, xfs, btrfs, vfat, f2fs, tmpfs.</summary>
    static readonly HashSet<long> Idmappable = [0xEF53, 0x58465342, 0x9123683E, 0x4d44, 0xF2F52010, 0x01021994];

    public static void Apply(Spec spec) => Apply(spec, FilesystemAllowsIdmap);

    /// <summary>Sets the maps on every bind mount whose source <paramref name="allowsIdmap"/> says can take them.</summary>
    public static void Apply(Spec spec, Func<string, bool> allowsIdmap)
    {
        if (spec.Linux?.UidMappings is not { Count: > 0 } uids || spec.Linux.GidMappings is not { Count: > 0 } gids || spec.Mounts is null)
            return;
        foreach (var mount in spec.Mounts)
        {
            if (!mount.IsBind() || mount.Source is null || mount.UidMappings is { Count: > 0 } || !allowsIdmap(mount.Source))
                continue;
            mount.UidMappings = [.. uids.Select(Copy)];
            mount.GidMappings = [.. gids.Select(Copy)];
        }
    }

    static LinuxIdMapping Copy(LinuxIdMapping m) => new() { ContainerId = m.ContainerId, HostId = m.HostId, Size = m.Size };

    static bool FilesystemAllowsIdmap(string path)
    {
        try
        {
            return Idmappable.Contains(Libc.FilesystemTypeOf(path));
        }
        catch (SyscallException)
        {
            return false; // the runtime reports a missing source in its own words
        }
    }
}
