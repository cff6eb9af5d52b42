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
    IReadOnlyList<Model.Digest> ChainIds);
