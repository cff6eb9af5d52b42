using Moat.Engine.Store;
using Moat.Images.Layers;
using Moat.Images.Snapshots;
using Moat.Interop;

namespace Moat.Engine.Volumes;

/// <summary>
/// Named and anonymous volumes: `&lt;root&gt;/volumes/&lt;name&gt;/_data`, made on first use, listed in the database.
/// A new volume gets a copy of what the image has at the mount's target, as docker's local driver does.
/// </summary>
public sealed class VolumeStore(string root, ContainerStore store)
{
    public string Directory { get; } = Path.Combine(root, "volumes");

    public string DataPath(string name) => Path.Combine(Directory, name, "_data");

    /// <summary>The volume's _data directory, made (and filled from <paramref name="rootfs"/> at <paramref name="target"/>) when it is new.</summary>
    public string Ensure(string name, bool anonymous, string? rootfs, string target, Func<(uint Uid, uint Gid), (uint Uid, uint Gid)>? owner = null)
    {
        CheckName(name);
        var data = DataPath(name);
        // The database row first: a crash after it leaves a volume `volume prune` sees; the directory follows.
        var added = store.AddVolume(name, anonymous);
        if (added || !System.IO.Directory.Exists(data))
        {
            var temp = Path.Combine(Directory, $".tmp-{name}-{Guid.NewGuid():N}");
            System.IO.Directory.CreateDirectory(Path.Combine(temp, "_data"));
            try
            {
                if (rootfs is not null && ImagePath(rootfs, target) is { } content)
                    TreeCopy.Copy(content, Path.Combine(temp, "_data"), owner);
                System.IO.Directory.CreateDirectory(Directory);
                if (Libc.renameat2(Libc.AT_FDCWD, temp, Libc.AT_FDCWD, Path.Combine(Directory, name), Libc.RENAME_NOREPLACE) < 0)
                {
                    if (Errors.LastErrno is not (Errors.EEXIST or Errors.ENOTEMPTY))
                        throw new SyscallException("rename", Errors.LastErrno, Path.Combine(Directory, name));
                    TreeRemoval.Remove(temp); // another creator won: theirs is the volume
                }
            }
            catch
            {
                TreeRemoval.Remove(temp);
                throw;
            }
        }
        return data;
    }

    /// <summary>
    /// The host path of a directory in the image's rootfs, resolved inside it (openat2 RESOLVE_IN_ROOT: an
    /// image symlink cannot point the copy at the host); null when the image has no directory there.
    /// </summary>
    static string? ImagePath(string rootfs, string target)
    {
        using var root = Libc.Open(rootfs, Libc.O_PATH | Libc.O_DIRECTORY);
        var fd = Libc.openat2(root.Fd, target.TrimStart('/'), (ulong)(Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC), 0, Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS);
        if (fd < 0)
            return null;
        using var opened = new FileDescriptor(fd);
        var real = File.ResolveLinkTarget($"/proc/self/fd/{fd}", returnFinalTarget: false)?.FullName;
        var full = Path.GetFullPath(rootfs);
        return real is not null && (real == full || real.StartsWith(full + "/", StringComparison.Ordinal)) ? real : null;
    }

    public void Remove(string name)
    {
        CheckName(name);
        var directory = Path.Combine(Directory, name);
        if (System.IO.Directory.Exists(directory))
        {
            var doomed = Path.Combine(Directory, $".removing-{name}-{Guid.NewGuid():N}");
            Errors.Check(Libc.renameat2(Libc.AT_FDCWD, directory, Libc.AT_FDCWD, doomed, Libc.RENAME_NOREPLACE), "rename", directory);
            TreeRemoval.Remove(doomed);
        }
        store.RemoveVolume(name);
    }

    static void CheckName(string name)
    {
        if (name.Length < 2 || !char.IsAsciiLetterOrDigit(name[0]) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
            throw new EngineException($"invalid volume name \"{name}\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }
}
