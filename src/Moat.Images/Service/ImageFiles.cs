using Moat.Images.Snapshots;
using Moat.Images.Storage;
using Moat.Interop;

namespace Moat.Images.Service;

/// <summary>
/// Reads files of a stored image's merged tree straight from its snapshots, without mounting anything:
/// what a scanner needs (package databases, /etc/os-release). Overlay snapshots are one layer each and
/// are looked through top to bottom as overlayfs would (a 0/0 character device hides a name, an opaque
/// directory hides what lower layers hold under it); a vfs snapshot is already the whole tree.
/// <para>
/// Paths are resolved here, one component at a time over the merged view, so a symlink in one layer
/// pointing at a file of another works as in the running container; within a layer every lookup is
/// RESOLVE_BENEATH with no symlinks, so nothing the image holds can lead outside its snapshot directories.
/// </para>
/// </summary>
public sealed class ImageFiles : IDisposable
{
    const ulong Beneath = Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_SYMLINKS | Libc.RESOLVE_NO_MAGICLINKS;
    const int MaxSymlinks = 40;
    /// <summary>Beyond this a single file is not one a scanner should hold in memory.</summary>
    public const long MaxFileBytes = 512L << 20;

    readonly FileDescriptor[] layers; // top first
    readonly bool overlay;
    readonly string display;

    /// <param name="layerDirectoriesTopFirst">Snapshot diff directories, the top layer first.</param>
    /// <param name="overlay">True when the layers are overlay layers (whiteouts to honour); false for one complete tree.</param>
    public ImageFiles(IReadOnlyList<string> layerDirectoriesTopFirst, bool overlay, string display)
    {
        if (layerDirectoriesTopFirst.Count == 0)
            throw new ArgumentException($"{display} has no layers to read");
        this.overlay = overlay;
        this.display = display;
        layers = new FileDescriptor[layerDirectoriesTopFirst.Count];
        try
        {
            for (var i = 0; i < layers.Length; i++)
            {
                var fd = Libc.open(layerDirectoriesTopFirst[i], Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
                if (fd < 0)
                    throw new StorageException($"the layer directory {layerDirectoriesTopFirst[i]} of {display} cannot be opened: {Errors.Describe(Errors.LastErrno)}");
                layers[i] = new FileDescriptor(fd);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The files of a stored image, from its snapshots (which must be present).</summary>
    public static ImageFiles Open(ImageService service, ImageRecord image)
    {
        var chain = service.ChainIdsOf(image);
        var display = "image " + image.Id.Short;
        if (chain.Count == 0)
            throw new StorageException($"{display} has no layers in the store");
        foreach (var chainId in chain)
            if (!service.Snapshots.Has(chainId))
                throw new StorageException($"{display} is missing its layer snapshot {chainId.Short}; pull or load it again");
        if (service.Snapshots.Driver != StorageDriver.Overlay)
            return new ImageFiles([service.Snapshots.DiffPath(chain[^1])], overlay: false, display);
        return new ImageFiles(chain.Reverse().Select(service.Snapshots.DiffPath).ToList(), overlay: true, display);
    }

    /// <summary>A directory of the merged view: the layers (top first) that contribute to it, with its path in each.</summary>
    readonly record struct MergedDirectory(string Path, int[] Layers);

    /// <summary>What a name resolved to: its type in the topmost layer holding it, that layer, and (for directories) the contributing layers.</summary>
    readonly record struct MergedEntry(string Path, uint Type, int Layer, int[] DirectoryLayers);

    /// <summary>The whole content of a regular file, following symlinks inside the image; null when it does not exist.</summary>
    public byte[]? ReadFile(string path)
    {
        using var file = OpenFile(path);
        if (file is null)
            return null;
        var status = Libc.StatOf(file.Fd, path);
        if (status.Size > MaxFileBytes)
            throw new StorageException($"{path} in {display} is {status.Size} bytes, more than the {MaxFileBytes >> 20} MiB a file read from an image may have");
        var buffer = new byte[status.Size];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxFileBytes)
                    throw new StorageException($"{path} in {display} grew beyond {MaxFileBytes >> 20} MiB while read");
                Array.Resize(ref buffer, (int)Math.Min(Math.Max(4096, buffer.Length * 2L), MaxFileBytes));
            }
            var n = Libc.Read(file.Fd, buffer.AsSpan(length), path);
            if (n == 0)
                return length == buffer.Length ? buffer : buffer.AsSpan(0, length).ToArray();
            length += n;
        }
    }

    /// <summary>A regular file opened for reading (the caller owns it), following symlinks inside the image; null when it does not exist.</summary>
    public FileDescriptor? OpenFile(string path)
    {
        if (Resolve(path, followLast: true) is not { } entry)
            return null;
        if (entry.Type != Libc.S_IFREG)
            throw new StorageException($"{path} in {display} is not a regular file");
        // O_NONBLOCK: nothing but a regular file is opened, and a FIFO swapped in must not hang the reader.
        var fd = Libc.openat2(layers[entry.Layer].Fd, entry.Path, (ulong)(Libc.O_RDONLY | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC | Libc.O_NOFOLLOW), 0, Beneath);
        if (fd < 0)
            throw new StorageException($"{path} in {display} cannot be opened: {Errors.Describe(Errors.LastErrno)}");
        var file = new FileDescriptor(fd);
        if (!Libc.StatOf(fd, path).IsRegular)
        {
            file.Dispose();
            throw new StorageException($"{path} in {display} is not a regular file");
        }
        return file;
    }

    /// <summary>True when the path names something (symlinks followed).</summary>
    public bool Exists(string path) => Resolve(path, followLast: true) is not null;

    /// <summary>The names in a directory of the merged view (sorted, whiteouts applied); null when it does not exist.</summary>
    public IReadOnlyList<string>? ListDirectory(string path)
    {
        if (Resolve(path, followLast: true) is not { } entry)
            return null;
        if (entry.Type != Libc.S_IFDIR)
            throw new StorageException($"{path} in {display} is not a directory");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var layer in entry.DirectoryLayers)
        {
            using var dir = OpenDirectory(layer, entry.Path, readable: true);
            if (dir is null)
                continue;
            foreach (var (name, _) in Libc.ListDirectory(dir.Fd, path))
            {
                if (!seen.Add(name))
                    continue; // an upper layer decided this name
                if (overlay && IsWhiteout(Libc.TryStatAt(dir.Fd, name)))
                    continue;
                names.Add(name);
            }
        }
        return [.. names];
    }

    MergedEntry? Resolve(string path, bool followLast)
    {
        var pending = new List<string>(Split(path));
        pending.Reverse(); // a stack: the next component last
        var current = new MergedDirectory("", RootLayers());
        var parents = new Stack<MergedDirectory>();
        var hops = 0;
        MergedEntry? last = new MergedEntry("", Libc.S_IFDIR, current.Layers[0], current.Layers);
        while (pending.Count > 0)
        {
            var name = pending[^1];
            pending.RemoveAt(pending.Count - 1);
            if (name == ".")
                continue;
            if (name == "..")
            {
                if (parents.Count > 0)
                    current = parents.Pop();
                last = new MergedEntry(current.Path, Libc.S_IFDIR, current.Layers[0], current.Layers);
                continue;
            }
            var found = Lookup(current, name);
            if (found is null)
                return null;
            var entry = found.Value;
            if (entry.Type == Libc.S_IFLNK && (pending.Count > 0 || followLast))
            {
                if (++hops > MaxSymlinks)
                    throw new StorageException($"{path} in {display} has more than {MaxSymlinks} symlinks on its way");
                var target = Libc.ReadLinkAt(layers[entry.Layer].Fd, entry.Path);
                if (target.StartsWith('/'))
                {
                    parents.Clear();
                    current = new MergedDirectory("", RootLayers());
                }
                var parts = Split(target);
                for (var i = parts.Count - 1; i >= 0; i--)
                    pending.Add(parts[i]);
                last = new MergedEntry(current.Path, Libc.S_IFDIR, current.Layers[0], current.Layers);
                continue;
            }
            if (pending.Count > 0)
            {
                if (entry.Type != Libc.S_IFDIR)
                    return null; // a file where a directory should be: nothing there, as ENOTDIR
                parents.Push(current);
                current = new MergedDirectory(entry.Path, entry.DirectoryLayers);
            }
            last = entry;
        }
        return last;
    }

    static List<string> Split(string path) => [.. path.Split('/', StringSplitOptions.RemoveEmptyEntries)];

    int[] RootLayers()
    {
        if (!overlay)
            return [0];
        var result = new List<int>();
        for (var i = 0; i < layers.Length; i++)
        {
            result.Add(i);
            if (IsOpaque(layers[i].Fd, "."))
                break;
        }
        return [.. result];
    }

    /// <summary>A name in a merged directory: the topmost contributing layer that has it decides, as overlayfs does.</summary>
    MergedEntry? Lookup(MergedDirectory directory, string name)
    {
        var path = directory.Path.Length == 0 ? name : directory.Path + "/" + name;
        for (var i = 0; i < directory.Layers.Length; i++)
        {
            var layer = directory.Layers[i];
            using var parent = OpenDirectory(layer, directory.Path, readable: false);
            if (parent is null)
                continue;
            var status = Libc.TryStatAt(parent.Fd, name);
            if (status is null)
                continue;
            if (overlay && IsWhiteout(status))
                return null;
            var type = status.Value.Type;
            if (type != Libc.S_IFDIR)
                return new MergedEntry(path, type, layer, []);
            // A directory: it merges with the same directory in the layers below, down to an opaque one
            // or to a layer where the name is something else (a whiteout or a file ends the merge).
            var contributing = new List<int> { layer };
            if (overlay && !IsOpaque(parent.Fd, name))
            {
                for (var j = i + 1; j < directory.Layers.Length; j++)
                {
                    var lower = directory.Layers[j];
                    using var lowerParent = OpenDirectory(lower, directory.Path, readable: false);
                    if (lowerParent is null)
                        continue;
                    var lowerStatus = Libc.TryStatAt(lowerParent.Fd, name);
                    if (lowerStatus is null)
                        continue;
                    if (!lowerStatus.Value.IsDirectory)
                        break;
                    contributing.Add(lower);
                    if (IsOpaque(lowerParent.Fd, name))
                        break;
                }
            }
            return new MergedEntry(path, type, layer, [.. contributing]);
        }
        return null;
    }

    /// <summary>A directory of one layer, resolved beneath the layer with no symlink on the way; null when absent there.</summary>
    FileDescriptor? OpenDirectory(int layer, string path, bool readable)
    {
        if (path.Length == 0 && !readable)
            return new FileDescriptor(layers[layer].Fd, ownsHandle: false);
        var flags = (readable ? Libc.O_RDONLY : Libc.O_PATH) | Libc.O_DIRECTORY | Libc.O_CLOEXEC;
        var fd = Libc.openat2(layers[layer].Fd, path.Length == 0 ? "." : path, (ulong)flags, 0, Beneath);
        if (fd >= 0)
            return new FileDescriptor(fd);
        var errno = Errors.LastErrno;
        // Absent, or not a directory (or a symlink) in this layer: it holds nothing under that path.
        if (errno is Errors.ENOENT or Errors.ENOTDIR or Errors.ELOOP)
            return null;
        throw new StorageException($"{path} in a layer of {display} cannot be opened: {Errors.Describe(errno)}");
    }

    /// <summary>Overlay's whiteout: a character device numbered 0/0.</summary>
    static bool IsWhiteout(FileStatus? status) =>
        status is { } s && s.Type == Libc.S_IFCHR && s.RdevMajor == 0 && s.RdevMinor == 0;

    /// <summary>An opaque directory: trusted.overlay.opaque=y, or user.overlay.opaque=y as rootless unpacking writes it.</summary>
    static bool IsOpaque(int parentFd, string name)
    {
        var path = name == "." ? $"/proc/self/fd/{parentFd}" : $"/proc/self/fd/{parentFd}/{name}";
        return IsY(Libc.GetXattr(path, "trusted.overlay.opaque")) || IsY(Libc.GetXattr(path, "user.overlay.opaque"));
    }

    static bool IsY(byte[]? value) => value is [(byte)'y', ..];

    public void Dispose()
    {
        foreach (var layer in layers)
            layer?.Dispose();
    }
}
