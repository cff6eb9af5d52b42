using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Moat.Images.Layers;
using Moat.Images.Model;
using Moat.Interop;

namespace Moat.Images.Snapshots;

/// <summary>
/// Layer snapshots, each unpacked once into `&lt;root&gt;/snapshots/&lt;chain-id hex&gt;/diff` (vfs: `vfs-snapshots`),
/// and the per-container layers stacked on them in `&lt;root&gt;/containers/&lt;id&gt;`. A snapshot appears by an
/// atomic rename of a finished, verified temporary directory, under an flock per chain id: a crash leaves only
/// a temporary directory (cleared by the next attempt), and a second preparer waits, then finds it done.
/// <para>
/// Durability is batched: a renamed snapshot is first "pending" (its data may still be only in the page
/// cache, with the boot id noted), and becomes complete — visible to <see cref="Has"/> — when
/// <see cref="CompleteLayers"/> has synced the filesystem once for the whole batch and renamed its
/// `pending` file to `info`. A pending snapshot of this boot is good (the page cache outlives any process
/// crash) and is completed by whoever meets it; one of an earlier boot may have lost data and is redone.
/// </para>
/// </summary>
public sealed class SnapshotStore
{
    const string InfoFile = "info", PendingFile = "pending", DiffDirectory = "diff", LayersFile = "layers", UidMapFile = "uid_map", GidMapFile = "gid_map";
    /// <summary>This boot of the host (what makes a pending snapshot or a kept verdict of an earlier boot stale).</summary>
    internal static readonly Lazy<string> BootId = new(() => (Libc.TryReadText("/proc/sys/kernel/random/boot_id") ?? "unknown").Trim());

    readonly string snapshots, locks, containers;
    readonly bool rootless;

    /// <param name="root">The storage root (`/var/lib/moat`, or what --root says).</param>
    /// <param name="driver">Forces a driver; null chooses (MOAT_STORAGE_DRIVER, else a probe of overlay, once per root).</param>
    /// <param name="rootless">Overlay attributes in the user.* namespace (userxattr) and no device nodes.</param>
    public SnapshotStore(string root, StorageDriver? driver = null, bool rootless = false)
    {
        Root = Path.GetFullPath(root);
        this.rootless = rootless;
        Driver = driver ?? StorageDriverProbe.Choose(Root, rootless);
        // The two drivers' snapshots hold different things (one layer, or everything up to it): never mixed.
        snapshots = Path.Combine(Root, Driver == StorageDriver.Overlay ? "snapshots" : "vfs-snapshots");
        locks = Path.Combine(snapshots, ".locks");
        containers = Path.Combine(Root, "containers");
    }

    public string Root { get; }
    public StorageDriver Driver { get; }

    /// <summary>How layers must be unpacked for this driver: overlay whiteouts, or applied on top of the parent's tree.</summary>
    public WhiteoutMode LayerWhiteouts => Driver == StorageDriver.Overlay ? WhiteoutMode.Overlay : WhiteoutMode.Apply;

    /// <summary>The chain id of the layer stack (image-spec config.md): ChainID(L0) = DiffID(L0), ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).</summary>
    public static Digest ChainId(IReadOnlyList<Digest> diffIds)
    {
        if (diffIds.Count == 0)
            throw new ArgumentException("a chain id needs at least one layer");
        Digest? chain = null;
        foreach (var diffId in diffIds)
            chain = ChainId(chain, diffId);
        return chain!.Value;
    }

    /// <summary>The chain ids of every layer of the stack, bottom first: the snapshots an image stands on.</summary>
    public static IReadOnlyList<Digest> ChainIds(IReadOnlyList<Digest> diffIds)
    {
        var chain = new List<Digest>(diffIds.Count);
        Digest? parent = null;
        foreach (var diffId in diffIds)
            chain.Add((parent = ChainId(parent, diffId)).Value);
        return chain;
    }

    /// <summary>The chain id of a layer on top of <paramref name="parent"/> (null for the bottom layer).</summary>
    public static Digest ChainId(Digest? parent, Digest diffId) =>
        parent is { } p ? Digest.Sha256(Encoding.ASCII.GetBytes($"{p} {diffId}")) : diffId;

    string SnapshotDirectory(Digest chainId) => Path.Combine(snapshots, chainId.Hex);

    /// <summary>The directory holding the snapshot's files (the layer alone for overlay, the whole tree for vfs).</summary>
    public string DiffPath(Digest chainId) => Path.Combine(SnapshotDirectory(chainId), DiffDirectory);

    /// <summary>Whether the snapshot is complete: unpacked, verified and on disk.</summary>
    public bool Has(Digest chainId) => File.Exists(Path.Combine(SnapshotDirectory(chainId), InfoFile));

    /// <summary>Complete, or pending from this boot (verified, its data at least in the page cache).</summary>
    bool IsPrepared(Digest chainId) => Has(chainId) || PendingBootOf(chainId) == BootId.Value;

    string? PendingBootOf(Digest chainId)
    {
        var text = Libc.TryReadText(Path.Combine(SnapshotDirectory(chainId), PendingFile));
        if (text is null)
            return null;
        foreach (var line in text.Split('\n'))
            if (line.StartsWith("boot ", StringComparison.Ordinal))
                return line[5..];
        return null;
    }

    /// <summary>
    /// Makes sure the snapshot of <paramref name="diffId"/> on top of <paramref name="parentChainId"/> exists and
    /// returns its chain id. When it does not, <paramref name="unpack"/> is called (once, across threads and
    /// processes) with an empty directory to fill and the whiteout mode to use — for vfs the directory already
    /// holds the parent's tree. The diff_id it reports must be <paramref name="diffId"/>, or nothing is kept.
    /// <para>
    /// Overlay snapshots are independent directories, so the layers of one image may be prepared in parallel,
    /// in any order; vfs needs the parent prepared first. With <paramref name="durable"/> false the snapshot is
    /// left pending: call <see cref="CompleteLayers"/> for the batch (one filesystem sync) before using it.
    /// </para>
    /// </summary>
    public Digest EnsureLayer(Digest? parentChainId, Digest diffId, Func<string, WhiteoutMode, UnpackResult> unpack, bool durable = true)
    {
        var chainId = ChainId(parentChainId, diffId);
        if (Has(chainId))
            return chainId;
        if (Driver == StorageDriver.Vfs && parentChainId is { } parent && !IsPrepared(parent))
            throw new InvalidOperationException($"the snapshot of layer {diffId} needs its parent snapshot {parent}, which is not in the store; with the vfs driver, prepare the layers bottom up");
        Directory.CreateDirectory(locks);
        using (FileLock.Exclusive(Path.Combine(locks, chainId.Hex)))
        {
            if (Has(chainId))
                return chainId;
            if (Directory.Exists(SnapshotDirectory(chainId)))
            {
                if (IsPrepared(chainId))
                {
                    if (durable)
                        CompleteLocked([chainId]);
                    return chainId;
                }
                // Renamed into place before the machine went down: its data may never have reached the disk.
                TreeRemoval.Remove(SnapshotDirectory(chainId));
            }
            RemoveLeftovers(".tmp-" + chainId.Hex + "-");
            var temp = Path.Combine(snapshots, $".tmp-{chainId.Hex}-{Guid.NewGuid():N}");
            var diff = Path.Combine(temp, DiffDirectory);
            try
            {
                Directory.CreateDirectory(temp);
                if (Driver == StorageDriver.Vfs && parentChainId is { } below)
                    TreeCopy.Copy(DiffPath(below), diff);
                else
                    Directory.CreateDirectory(diff);
                var result = unpack(diff, LayerWhiteouts);
                if (result.DiffId != diffId)
                    throw new LayerUnpackException($"the layer unpacked has diff_id {result.DiffId}, but the image says {diffId}; the blob does not belong to this image, so it was not kept");
                var info = $"boot {BootId.Value}\nparent {(parentChainId is { } p ? p.ToString() : "-")}\ndiff_id {diffId}\nsize {result.UncompressedSize.ToString(CultureInfo.InvariantCulture)}\n";
                File.WriteAllText(Path.Combine(temp, PendingFile), info);
                Errors.Check(Libc.renameat2(Libc.AT_FDCWD, temp, Libc.AT_FDCWD, SnapshotDirectory(chainId), Libc.RENAME_NOREPLACE), "rename", SnapshotDirectory(chainId));
            }
            catch
            {
                TreeRemoval.Remove(temp);
                throw;
            }
            if (durable)
                CompleteLocked([chainId]);
        }
        return chainId;
    }

    /// <summary>
    /// Makes pending snapshots complete: one sync of the store's filesystem for all of them, then each one's
    /// `pending` renamed to `info`. Complete snapshots are skipped; one that is absent, or pending from an
    /// earlier boot, is an error (it must be prepared again).
    /// </summary>
    public void CompleteLayers(IEnumerable<Digest> chainIds)
    {
        var pending = chainIds.Where(c => !Has(c)).Distinct().ToList();
        if (pending.Count == 0)
            return;
        Directory.CreateDirectory(locks);
        var held = new List<FileLock>();
        try
        {
            // Always locked in one order, so two completers of overlapping batches cannot deadlock.
            foreach (var chainId in pending.OrderBy(c => c.Hex, StringComparer.Ordinal))
                held.Add(FileLock.Exclusive(Path.Combine(locks, chainId.Hex)));
            CompleteLocked(pending);
        }
        finally
        {
            foreach (var l in held)
                l.Dispose();
        }
    }

    void CompleteLocked(IReadOnlyList<Digest> chainIds)
    {
        var todo = chainIds.Where(c => !Has(c)).ToList();
        foreach (var chainId in todo)
            if (PendingBootOf(chainId) != BootId.Value)
                throw new InvalidOperationException($"layer snapshot {chainId} is not prepared (or was prepared before the last reboot and may be incomplete); prepare it again");
        if (todo.Count == 0)
            return;
        // Data first, for the whole batch at once; only then the names that make the snapshots visible.
        using (var dir = Libc.Open(snapshots, Libc.O_RDONLY | Libc.O_DIRECTORY))
            Errors.Check(Libc.syncfs(dir.Fd), "syncfs", snapshots);
        foreach (var chainId in todo)
        {
            var directory = SnapshotDirectory(chainId);
            Errors.Check(Libc.renameat2(Libc.AT_FDCWD, Path.Combine(directory, PendingFile), Libc.AT_FDCWD, Path.Combine(directory, InfoFile), 0), "rename", Path.Combine(directory, PendingFile));
        }
    }

    /// <summary>
    /// Ensures the snapshots of a whole image, bottom up, with one filesystem sync for all of them, and returns
    /// their chain ids (bottom first). <paramref name="unpackLayer"/> gets the layer's index in
    /// <paramref name="diffIds"/>, the directory and the whiteout mode.
    /// </summary>
    public IReadOnlyList<Digest> EnsureLayers(IReadOnlyList<Digest> diffIds, Func<int, string, WhiteoutMode, UnpackResult> unpackLayer)
    {
        var chain = new List<Digest>(diffIds.Count);
        Digest? parent = null;
        for (var i = 0; i < diffIds.Count; i++)
        {
            var index = i;
            parent = EnsureLayer(parent, diffIds[i], (dir, mode) => unpackLayer(index, dir, mode), durable: false);
            chain.Add(parent.Value);
        }
        CompleteLayers(chain);
        return chain;
    }

    (Digest? Parent, long Size) ReadInfo(Digest chainId)
    {
        Digest? parent = null;
        long size = 0;
        var directory = SnapshotDirectory(chainId);
        var file = File.Exists(Path.Combine(directory, InfoFile)) ? InfoFile : PendingFile;
        foreach (var line in File.ReadAllLines(Path.Combine(directory, file)))
        {
            if (line.StartsWith("parent ", StringComparison.Ordinal) && Digest.TryParse(line[7..], out var p))
                parent = p;
            else if (line.StartsWith("size ", StringComparison.Ordinal))
                long.TryParse(line[5..], NumberStyles.None, CultureInfo.InvariantCulture, out size);
        }
        return (parent, size);
    }

    /// <summary>The snapshot's parent chain id (null for a bottom layer).</summary>
    public Digest? ParentOf(Digest chainId) => ReadInfo(chainId).Parent;

    /// <summary>Every complete snapshot with the uncompressed size of its layer.</summary>
    public IEnumerable<(Digest ChainId, long Size)> List()
    {
        if (!Directory.Exists(snapshots))
            yield break;
        foreach (var dir in Directory.EnumerateDirectories(snapshots))
        {
            if (!Digest.TryParse("sha256:" + Path.GetFileName(dir), out var chainId) || !Has(chainId))
                continue;
            yield return (chainId, ReadInfo(chainId).Size);
        }
    }

    /// <summary>Removes a snapshot (absent is fine). The caller makes sure no container or snapshot above it still needs it.</summary>
    public void Remove(Digest chainId)
    {
        if (!Directory.Exists(SnapshotDirectory(chainId)))
            return;
        Directory.CreateDirectory(locks);
        using var held = FileLock.Exclusive(Path.Combine(locks, chainId.Hex));
        var doomed = Path.Combine(snapshots, $".removing-{chainId.Hex}-{Guid.NewGuid():N}");
        // Renamed out of sight first, so a crash mid-delete never leaves a half snapshot under its real name.
        if (Libc.renameat2(Libc.AT_FDCWD, SnapshotDirectory(chainId), Libc.AT_FDCWD, doomed, Libc.RENAME_NOREPLACE) < 0)
        {
            if (Errors.LastErrno == Errors.ENOENT)
                return;
            throw new SyscallException("rename", Errors.LastErrno, SnapshotDirectory(chainId));
        }
        TreeRemoval.Remove(doomed);
    }

    void RemoveLeftovers(string prefix)
    {
        foreach (var dir in Directory.EnumerateDirectories(snapshots, prefix + "*"))
            TreeRemoval.Remove(dir);
    }

    // ---- containers ----

    static void CheckContainerId(string id)
    {
        if (id.Length is 0 or > 128 || !char.IsAsciiLetterOrDigit(id[0]) || id.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')))
            throw new ArgumentException($"'{id}' is not a valid container id (letters, digits, '_', '.', '-', starting with a letter or digit, at most 128)");
    }

    string ContainerDirectory(string id) => Path.Combine(containers, id);

    /// <summary>
    /// Creates the container's layer over the image's snapshots (<paramref name="chainIds"/>, bottom first,
    /// as <see cref="EnsureLayers"/> returns them): overlay makes empty upper and work directories and an
    /// empty mount point; vfs copies the top snapshot's tree into the rootfs. Nothing is left on failure.
    /// With <paramref name="idMap"/> (a container with its own user namespace) the layers will be mounted
    /// idmapped and the upper directory belongs to the container's root on the host.
    /// </summary>
    public ContainerFilesystem CreateContainerLayer(string containerId, IReadOnlyList<Digest> chainIds, LayerIdMap? idMap = null)
    {
        if (idMap is not null && Driver != StorageDriver.Overlay)
            throw new InvalidOperationException($"a container with its own user namespace needs the overlay storage driver (this store uses {Driver.ToString().ToLowerInvariant()}); run it with --userns host");
        CheckContainerId(containerId);
        if (chainIds.Count == 0)
            throw new ArgumentException("a container layer needs at least one image layer below it");
        foreach (var chainId in chainIds)
            if (!Has(chainId))
                throw new InvalidOperationException($"layer snapshot {chainId} is not in the store; the image's layers must be unpacked first");
        var final = ContainerDirectory(containerId);
        if (Directory.Exists(final))
            throw new InvalidOperationException($"container {containerId} already has a filesystem layer");
        Directory.CreateDirectory(containers);
        var temp = Path.Combine(containers, $".tmp-{containerId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(temp);
            if (Driver == StorageDriver.Overlay)
            {
                foreach (var dir in new[] { "upper", "work", "merged" })
                    Directory.CreateDirectory(Path.Combine(temp, dir));
                if (idMap is not null)
                {
                    var uid = LayerIdMap.RootOf(idMap.UidMap) ?? throw new ArgumentException("the container's uid map does not map its root (0)");
                    var gid = LayerIdMap.RootOf(idMap.GidMap) ?? throw new ArgumentException("the container's gid map does not map its root (0)");
                    // The rootfs's top directory is the upper one's: the container's root must own it.
                    Errors.Check(Libc.fchownat(Libc.AT_FDCWD, Path.Combine(temp, "upper"), uid, gid, 0), "chown", Path.Combine(temp, "upper"));
                    File.WriteAllText(Path.Combine(temp, UidMapFile), idMap.UidMap);
                    File.WriteAllText(Path.Combine(temp, GidMapFile), idMap.GidMap);
                }
            }
            else
                TreeCopy.Copy(DiffPath(chainIds[^1]), Path.Combine(temp, "merged"));
            File.WriteAllLines(Path.Combine(temp, LayersFile), [Driver == StorageDriver.Overlay ? "overlay" : "vfs", .. chainIds.Select(c => c.ToString())]);
            Errors.Check(Libc.renameat2(Libc.AT_FDCWD, temp, Libc.AT_FDCWD, final, Libc.RENAME_NOREPLACE), "rename", final);
        }
        catch (SyscallException e) when (e.Errno is Errors.EEXIST or Errors.ENOTEMPTY)
        {
            TreeRemoval.Remove(temp);
            throw new InvalidOperationException($"container {containerId} already has a filesystem layer", e);
        }
        catch
        {
            TreeRemoval.Remove(temp);
            throw;
        }
        return GetContainerLayer(containerId)!;
    }

    /// <summary>The container's layer as created, or null when it has none.</summary>
    public ContainerFilesystem? GetContainerLayer(string containerId)
    {
        CheckContainerId(containerId);
        var dir = ContainerDirectory(containerId);
        var layersFile = Path.Combine(dir, LayersFile);
        if (!File.Exists(layersFile))
            return null;
        var lines = File.ReadAllLines(layersFile);
        var driver = lines[0] == "overlay" ? StorageDriver.Overlay : StorageDriver.Vfs;
        var chainIds = lines.Skip(1).Where(l => l.Length > 0).Select(Digest.Parse).ToList();
        var overlay = driver == StorageDriver.Overlay;
        var lowers = overlay ? chainIds.AsEnumerable().Reverse().Select(DiffPath).ToList() : [];
        var uidMapFile = Path.Combine(dir, UidMapFile);
        var idMap = overlay && File.Exists(uidMapFile) ? new LayerIdMap(File.ReadAllText(uidMapFile), File.ReadAllText(Path.Combine(dir, GidMapFile))) : null;
        return new ContainerFilesystem(containerId, driver, dir, Path.Combine(dir, "merged"),
            overlay ? Path.Combine(dir, "upper") : null, overlay ? Path.Combine(dir, "work") : null, lowers, chainIds, idMap);
    }

    /// <summary>Every snapshot some container layer stands on: garbage collection keeps them whatever happened to their images.</summary>
    public IReadOnlySet<Digest> ContainerLayerChainIds()
    {
        var used = new HashSet<Digest>();
        if (!Directory.Exists(containers))
            return used;
        foreach (var directory in Directory.EnumerateDirectories(containers))
        {
            var id = Path.GetFileName(directory);
            if (id.StartsWith('.'))
                continue;
            if (GetContainerLayer(id) is { } layer)
                used.UnionWith(layer.ChainIds);
        }
        return used;
    }

    /// <summary>
    /// The host id ranges (start, count) that containers' layers are mapped to, stopped ones too: a new
    /// container's automatic range must not share ids with a container that can start again.
    /// </summary>
    public List<(uint Start, uint Count)> IdMappedHostRanges()
    {
        var ranges = new List<(uint, uint)>();
        if (!Directory.Exists(containers))
            return ranges;
        foreach (var directory in Directory.EnumerateDirectories(containers))
            foreach (var file in new[] { UidMapFile, GidMapFile })
            {
                var path = Path.Combine(directory, file);
                if (!File.Exists(path))
                    continue;
                foreach (var (_, outside, count) in Oci.IdMapText.Parse(File.ReadAllText(path)))
                    ranges.Add((outside, count));
            }
        return ranges;
    }

    ContainerFilesystem Require(string containerId) =>
        GetContainerLayer(containerId) ?? throw new InvalidOperationException($"container {containerId} has no filesystem layer");

    /// <summary>Mounts the container's overlay on its rootfs (vfs: nothing to mount) and returns the rootfs path.</summary>
    public string Mount(string containerId)
    {
        var layer = Require(containerId);
        if (layer.Driver == StorageDriver.Vfs)
            return layer.Rootfs;
        foreach (var chainId in layer.ChainIds)
            if (!Has(chainId))
                throw new InvalidOperationException($"container {containerId} stands on layer snapshot {chainId}, which has been removed");
        if (IsMountPoint(layer.Rootfs, layer.Directory))
            return layer.Rootfs; // mounted already: once is enough
        if (layer.IdMap is { } idMap)
        {
            using var userNamespace = UserNamespaceFile.Create(idMap.UidMap, idMap.GidMap);
            OverlayMount.Mount(layer.LowerDirectories, layer.UpperDirectory, layer.WorkDirectory, layer.Rootfs, userXattr: rootless, idmap: userNamespace);
        }
        else
            OverlayMount.Mount(layer.LowerDirectories, layer.UpperDirectory, layer.WorkDirectory, layer.Rootfs, userXattr: rootless);
        return layer.Rootfs;
    }

    static bool IsMountPoint(string path, string parent)
    {
        using var at = Libc.Open(path, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW);
        using var above = Libc.Open(parent, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW);
        var (inner, outer) = (Libc.StatOf(at.Fd, path), Libc.StatOf(above.Fd, parent));
        return (inner.DeviceMajor, inner.DeviceMinor) != (outer.DeviceMajor, outer.DeviceMinor);
    }

    /// <summary>Whether the container's overlay is mounted on its rootfs now.</summary>
    public bool IsMounted(string containerId)
    {
        var layer = Require(containerId);
        return layer.Driver == StorageDriver.Overlay && IsMountPoint(layer.Rootfs, layer.Directory);
    }

    /// <summary>Unmounts the container's rootfs; not mounted is fine.</summary>
    public void Unmount(string containerId)
    {
        var layer = Require(containerId);
        if (layer.Driver == StorageDriver.Overlay)
            OverlayMount.Unmount(layer.Rootfs);
    }

    /// <summary>Unmounts and deletes the container's layer (its changes are gone); absent is fine.</summary>
    public void RemoveContainerLayer(string containerId)
    {
        CheckContainerId(containerId);
        var dir = ContainerDirectory(containerId);
        if (!Directory.Exists(dir))
            return;
        OverlayMount.Unmount(Path.Combine(dir, "merged"));
        var doomed = Path.Combine(containers, $".removing-{containerId}-{Guid.NewGuid():N}");
        Errors.Check(Libc.renameat2(Libc.AT_FDCWD, dir, Libc.AT_FDCWD, doomed, Libc.RENAME_NOREPLACE), "rename", dir);
        TreeRemoval.Remove(doomed);
    }
}
