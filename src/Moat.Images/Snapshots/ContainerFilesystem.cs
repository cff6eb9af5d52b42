namespace Moat.Images.Snapshots;

/// <summary>
/// A container's own filesystem layer: with overlay, its upper and work directories over the image's
/// snapshots (lower, top first), mounted on <see cref="Rootfs"/>; with vfs, a full copy in <see cref="Rootfs"/>.
/// </summary>
public sealed record ContainerFilesystem(
    string ContainerId,
    StorageDriver Driver,
    string Directory,
    string Rootfs,
    string? UpperDirectory,
    string? WorkDirectory,
    IReadOnlyList<string> LowerDirectories,
    IReadOnlyList<Model.Digest> ChainIds,
    LayerIdMap? IdMap = null);

/// <summary>
/// The id maps of a container with its own user namespace ("inside outside count" lines, as uid_map has
/// them): its image layers are seen through them (idmapped mounts), its upper directory belongs to the
/// host ids its root maps to.
/// </summary>
public sealed record LayerIdMap(string UidMap, string GidMap)
{
    /// <summary>The maps of a config's linux.uidMappings and gidMappings; null when it has none.</summary>
    public static LayerIdMap? From(IReadOnlyList<Oci.LinuxIdMapping>? uids, IReadOnlyList<Oci.LinuxIdMapping>? gids) =>
        uids is { Count: > 0 } && gids is { Count: > 0 } ? new(Oci.IdMapText.Format(uids), Oci.IdMapText.Format(gids)) : null;

    /// <summary>
    /// The ids a file seen through the idmapped layers (host ids) has on disk: a host id inside a mapped
    /// range goes back to the container id it stands for; others are kept.
    /// </summary>
    public (uint Uid, uint Gid) OnDisk((uint Uid, uint Gid) seen) => (Back(UidMap, seen.Uid), Back(GidMap, seen.Gid));

    static uint Back(string map, uint id)
    {
        foreach (var (inside, outside, count) in Oci.IdMapText.Parse(map))
            if (id >= outside && id - outside < count)
                return inside + (id - outside);
        return id;
    }

    /// <summary>The host id the container's uid 0 (or gid 0) maps to; null when 0 is not mapped.</summary>
    public static uint? RootOf(string map)
    {
        foreach (var (inside, outside, count) in Oci.IdMapText.Parse(map))
            if (inside == 0 && count > 0)
                return outside;
        return null;
    }
}
