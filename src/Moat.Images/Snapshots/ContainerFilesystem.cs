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
        uids is { Count: > 0 } && gids is { Count: > 0 } ? new(Format(uids), Format(gids)) : null;

    static string Format(IReadOnlyList<Oci.LinuxIdMapping> mappings) =>
        string.Concat(mappings.Select(m => $"{m.ContainerId} {m.HostId} {m.Size}\n"));

    /// <summary>The host id the container's uid 0 (or gid 0) maps to; null when 0 is not mapped.</summary>
    public static uint? RootOf(string map)
    {
        foreach (var line in map.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 3 && uint.TryParse(fields[0], System.Globalization.CultureInfo.InvariantCulture, out var inside)
                && uint.TryParse(fields[1], System.Globalization.CultureInfo.InvariantCulture, out var outside)
                && uint.TryParse(fields[2], System.Globalization.CultureInfo.InvariantCulture, out var count)
                && inside == 0 && count > 0)
                return outside;
        }
        return null;
    }
}
