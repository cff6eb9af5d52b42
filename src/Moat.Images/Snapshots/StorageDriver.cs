using System.Collections.Concurrent;
using Moat.Images.Layers;
using Moat.Images.Storage;
using Moat.Interop;

namespace Moat.Images.Snapshots;

/// <summary>How a container's filesystem is made from the image's layer snapshots.</summary>
public enum StorageDriver
{
    /// <summary>Snapshots hold one layer each (overlay whiteouts); a container stacks them under its own upper directory.</summary>
    Overlay,
    /// <summary>Snapshots hold the whole tree up to their layer; a container gets a full copy (where overlayfs is not available).</summary>
    Vfs,
}

/// <summary>Chooses the driver: MOAT_STORAGE_DRIVER if set, else overlay if an overlay mount works on the store's filesystem.</summary>
public static class StorageDriverProbe
{
    public const string EnvironmentVariable = "MOAT_STORAGE_DRIVER";
    static readonly ConcurrentDictionary<string, StorageDriver> Probed = new(StringComparer.Ordinal);

    public static StorageDriver Choose(string root, bool rootless)
    {
        switch (Environment.GetEnvironmentVariable(EnvironmentVariable))
        {
            case null or "":
                return Probed.GetOrAdd(Path.GetFullPath(root), r => Remembered(r, rootless));
            case "overlay":
                return StorageDriver.Overlay;
            case "vfs":
                return StorageDriver.Vfs;
            case var other:
                throw new ArgumentException($"{EnvironmentVariable}='{other}' is not a storage driver (overlay or vfs)");
        }
    }

    /// <summary>The file in the store's root that keeps the probe's verdict for the rest of the boot.</summary>
    public const string VerdictFile = "storage-driver.probe";

    /// <summary>
    /// The probe's verdict from an earlier `moat` of this boot on this filesystem and with this rootlessness, or a
    /// new probe. The probe mounts an overlay and removes three directories, which on a disk mounted with discard
    /// cost more than the rest of a `moat run`'s own work; what it tests (kernel, filesystem, privilege) cannot
    /// change within a boot for one store, whose device is part of the key. The file is written atomically
    /// but not synced: lost, it is probed again.
    /// </summary>
    static StorageDriver Remembered(string root, bool rootless)
    {
        Directory.CreateDirectory(root);
        var path = Path.Combine(root, VerdictFile);
        // Without a boot id nothing tells a verdict of this boot from an older one: probe every time.
        string? key = null;
        if (SnapshotStore.BootId.Value != "unknown")
        {
            var device = Libc.TryStatAt(Libc.AT_FDCWD, Path.Combine(root, ".")) is { } st ? $"{st.DeviceMajor}:{st.DeviceMinor}" : "?";
            key = $"boot {SnapshotStore.BootId.Value} device {device} rootless {(rootless ? 1 : 0)} driver ";
            if (Libc.TryReadText(path) is { } text && text.StartsWith(key, StringComparison.Ordinal))
            {
                switch (text[key.Length..].Trim())
                {
                    case "overlay": return StorageDriver.Overlay;
                    case "vfs": return StorageDriver.Vfs;
                }
            }
        }
        var driver = OverlayWorks(root, rootless) ? StorageDriver.Overlay : StorageDriver.Vfs;
        if (key is null)
            return driver;
        try
        {
            AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(key + (driver == StorageDriver.Overlay ? "overlay" : "vfs") + "\n"), durable: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a cache: the next `moat` probes again.
        }
        return driver;
    }

    /// <summary>
    /// Creates an overlay superblock over two directories in the store, with a whiteout in the lower one, as
    /// a detached mount: it tests the filesystem, the privilege and the kernel in one go and vanishes when closed.
    /// </summary>
    static bool OverlayWorks(string root, bool rootless)
    {
        var probe = Path.Combine(root, ".overlay-probe-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            foreach (var dir in new[] { "lower", "upper", "work" })
                Directory.CreateDirectory(Path.Combine(probe, dir));
            using (var lower = Libc.Open(Path.Combine(probe, "lower"), Libc.O_PATH | Libc.O_DIRECTORY))
                if (Libc.mknodat(lower.Fd, "gone", Libc.S_IFCHR, 0) < 0)
                    return false;
            using var context = FsContext.Open("overlay");
            if (context.TrySet("lowerdir+", Path.Combine(probe, "lower")) != 0 && context.TrySet("lowerdir", Path.Combine(probe, "lower")) != 0)
                return false;
            context.Set("upperdir", Path.Combine(probe, "upper"));
            context.Set("workdir", Path.Combine(probe, "work"));
            if (rootless)
                context.SetFlag("userxattr");
            using var mount = context.CreateMount(0);
            return true;
        }
        catch (SyscallException)
        {
            return false;
        }
        finally
        {
            TreeRemoval.Remove(probe);
        }
    }
}
