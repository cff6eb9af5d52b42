using Moat.Interop;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Rootfs;

namespace Moat.Sandbox.Tier;

/// <summary>
/// The mount points a sandboxed container's rootfs lacks, made by the runtime as the host's root before
/// the container is created. The sandbox tier gives a container that maps no ids a user namespace of its
/// own, whose root is an unprivileged range on the host: an engine's rootfs is owned by the host's root, so
/// the init could not make a missing mount point in it (EACCES), where the container tier, without that
/// namespace, makes it. podman with an image that has no /proc failed that way ("mkdir /proc ...:
/// Permission denied"). Only mount points that no other mount covers: those are made inside that mount
/// (a tmpfs of the container's own) by the init, as for any container. Resolved in the root
/// (<see cref="RootPath"/>: a symlink in the image never leads out of it).
/// </summary>
public static class MountPoints
{
    public static void CreateMissing(Spec spec, string bundle)
    {
        if (spec.Root?.Path is not { Length: > 0 } rootPath || spec.Mounts is not { Count: > 0 } mounts)
            return;
        var rootfs = Path.GetFullPath(rootPath, bundle);
        var fd = Libc.open(rootfs, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return; // a missing rootfs: the create says so
        using var root = new RootPath(new FileDescriptor(fd), rootfs);
        var destinations = mounts.Select(m => Normal(m.Destination)).ToList();
        foreach (var mount in mounts)
        {
            var destination = Normal(mount.Destination);
            if (destination == "/" || destinations.Any(other => other != destination && Beneath(destination, other)))
                continue;
            using (var existing = root.TryOpen(destination))
                if (existing is not null)
                    continue;
            try
            {
                root.OpenOrCreate(destination, lastIsFile: IsFileBind(mount, bundle)).Dispose();
            }
            catch (SyscallException)
            {
                // Left to the init, whose error names the mount.
            }
        }
    }

    static string Normal(string path) => "/" + string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));

    static bool Beneath(string path, string other) => other == "/" || path.StartsWith(other + "/", StringComparison.Ordinal);

    /// <summary>A bind mount of something that is not a directory needs a file to mount on.</summary>
    static bool IsFileBind(Mount mount, string bundle)
    {
        var bind = mount.Type == "bind" || (mount.Options?.Any(o => o is "bind" or "rbind") ?? false);
        if (!bind || mount.Source is not { Length: > 0 } source)
            return false;
        var path = Path.GetFullPath(source, bundle);
        return File.Exists(path) || (Path.Exists(path) && !Directory.Exists(path));
    }
}
