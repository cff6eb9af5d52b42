using System.Text;
using Moat.Images.Layers;
using Moat.Images.Model;
using Moat.Images.Snapshots;
using Moat.Interop;
using Moat.Tests.Images.Layers;

namespace Moat.Tests.Images.Snapshots;

public class SnapshotStoreTests
{
    static readonly bool IsRoot = Libc.geteuid() == 0;

    static readonly byte[] Base = new TarBuilder()
        .Directory("bin/").File("bin/su", "su", mode: 0x9ED /* 04755 */, uid: 0, gid: 0)
        .File("bin/tool", "tool", uid: 1000, gid: 1000).HardLink("bin/tool-link", "bin/tool")
        .Symlink("bin/sh", "busybox")
        .Directory("etc/").File("etc/gone", "gone").File("etc/motd", "base motd")
        .Build();

    static readonly byte[] Top = new TarBuilder()
        .File("etc/.wh.gone", "").File("etc/motd", "top motd").File("etc/added", "added")
        .Build();

    static UnpackResult UnpackWith(byte[] tar, string dir, WhiteoutMode mode) =>
        LayerUnpackerTests.Unpack(tar, dir, new UnpackOptions { Whiteouts = mode });

    [Fact]
    public void ChainIdsFollowTheImageSpec()
    {
        // Expected values from sha256sum over the same strings in a shell.
        var diffIds = new[] { "layer one", "layer two", "layer three" }.Select(s => Digest.Sha256(Encoding.UTF8.GetBytes(s))).ToArray();
        Assert.Equal("sha256:f191e625176e7514249870c60bc24622131b04927a418001d1969c9cecd260f1", SnapshotStore.ChainId(diffIds[..1]).ToString());
        Assert.Equal("sha256:d440fc2ac5bfa225471b58c5d6b4283504f5dfbcd6251023a635cdcd0c058e3e", SnapshotStore.ChainId(diffIds[..2]).ToString());
        Assert.Equal("sha256:952689aceeac7e377b602804de533a4ad47ba634e3917ca7cb071e5ff2bff6cd", SnapshotStore.ChainId(diffIds).ToString());
    }

    [Theory]
    [InlineData(StorageDriver.Overlay)]
    [InlineData(StorageDriver.Vfs)]
    public void TwoPreparersOfOneLayerUnpackItOnce(StorageDriver driver)
    {
        using var box = new Sandbox();
        var store = new SnapshotStore(box.Target, driver);
        var diffId = Digest.Sha256(Base);
        var unpacks = 0;
        using var bothStarted = new Barrier(2);
        var chains = new Digest[2];
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            bothStarted.SignalAndWait();
            chains[i] = store.EnsureLayer(null, diffId, (dir, mode) =>
            {
                Interlocked.Increment(ref unpacks);
                Thread.Sleep(300); // long enough for the other thread to reach the lock
                return UnpackWith(Base, dir, mode);
            });
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Equal(1, unpacks);
        Assert.Equal(diffId, chains[0]);
        Assert.Equal(diffId, chains[1]);
        Assert.True(store.Has(diffId));
        Assert.Equal("base motd", File.ReadAllText(Path.Combine(store.DiffPath(diffId), "etc/motd")));
        Assert.Equal([(diffId, (long)Base.Length)], store.List().ToArray());
    }

    [Fact]
    public void AnUnpackWhoseDiffIdIsNotTheExpectedOneIsRefusedAndNothingIsKept()
    {
        using var box = new Sandbox();
        var store = new SnapshotStore(box.Target, StorageDriver.Overlay);
        var claimed = Digest.Sha256(Top);
        var error = Assert.Throws<LayerUnpackException>(() => store.EnsureLayer(null, claimed, (dir, mode) => UnpackWith(Base, dir, mode)));
        Assert.Contains($"the image says {claimed}", error.Message);
        Assert.False(store.Has(claimed));
        Assert.Empty(store.List());
        Assert.Equal([".locks"], Directory.EnumerateDirectories(Path.Combine(box.Target, "snapshots")).Select(d => Path.GetFileName(d)!).ToArray());

        // A failing unpack leaves nothing either, and the next attempt succeeds.
        Assert.Throws<InvalidOperationException>(() => store.EnsureLayer(null, claimed, (_, _) => throw new InvalidOperationException("network down")));
        Assert.Equal(claimed, store.EnsureLayer(null, claimed, (dir, mode) => UnpackWith(Top, dir, mode)));
        store.Remove(claimed);
        Assert.False(store.Has(claimed));
        Assert.Empty(store.List());
    }

    [Fact]
    public void OverlayLayersMayBePreparedInAnyOrderButVfsNeedsTheParentFirst()
    {
        using var box = new Sandbox();
        var diffIds = new[] { Digest.Sha256(Base), Digest.Sha256(Top) };
        var chain = SnapshotStore.ChainId(diffIds);
        var overlay = new SnapshotStore(Path.Combine(box.Target, "o"), StorageDriver.Overlay);
        // The top layer first, as a parallel pull may finish it first.
        Assert.Equal(chain, overlay.EnsureLayer(diffIds[0], diffIds[1], (dir, mode) => UnpackWith(Top, dir, mode)));
        Assert.Equal(diffIds[0], overlay.EnsureLayer(null, diffIds[0], (dir, mode) => UnpackWith(Base, dir, mode)));
        Assert.True(overlay.Has(chain) && overlay.Has(diffIds[0]));

        var vfs = new SnapshotStore(Path.Combine(box.Target, "v"), StorageDriver.Vfs);
        var error = Assert.Throws<InvalidOperationException>(() => vfs.EnsureLayer(diffIds[0], diffIds[1], (dir, mode) => UnpackWith(Top, dir, mode)));
        Assert.Contains("bottom up", error.Message);
    }

    [Fact]
    public void ABatchIsVisibleOnlyOnceCompletedAndAPendingSnapshotOfAnEarlierBootIsRedone()
    {
        using var box = new Sandbox();
        var store = new SnapshotStore(box.Target, StorageDriver.Overlay);
        var diffIds = new[] { Digest.Sha256(Base), Digest.Sha256(Top) };
        var unpacks = 0;
        UnpackResult Counted(byte[] tar, string dir, WhiteoutMode mode) { unpacks++; return UnpackWith(tar, dir, mode); }

        var bottom = store.EnsureLayer(null, diffIds[0], (dir, mode) => Counted(Base, dir, mode), durable: false);
        var top = store.EnsureLayer(bottom, diffIds[1], (dir, mode) => Counted(Top, dir, mode), durable: false);
        Assert.False(store.Has(bottom) || store.Has(top));
        Assert.Empty(store.List());
        Assert.True(File.Exists(Path.Combine(store.DiffPath(top), "etc/added")));
        // A second preparer meets the pending snapshot of this boot: no second unpack.
        Assert.Equal(bottom, store.EnsureLayer(null, diffIds[0], (dir, mode) => Counted(Base, dir, mode), durable: false));
        Assert.Equal(2, unpacks);
        store.CompleteLayers([bottom, top]);
        Assert.True(store.Has(bottom) && store.Has(top));
        Assert.Equal(2, store.List().Count());

        // A snapshot renamed into place before a reboot may have lost data that was never synced: redone.
        var other = new SnapshotStore(Path.Combine(box.Target, "other"), StorageDriver.Overlay);
        var stale = other.EnsureLayer(null, diffIds[0], (dir, mode) => Counted(Base, dir, mode), durable: false);
        var pendingFile = Path.Combine(box.Target, "other/snapshots", stale.Hex, "pending");
        File.WriteAllText(pendingFile, File.ReadAllText(pendingFile).Replace("boot ", "boot earlier-"));
        var error = Assert.Throws<InvalidOperationException>(() => other.CompleteLayers([stale]));
        Assert.Contains("prepare it again", error.Message);
        Assert.Equal(stale, other.EnsureLayer(null, diffIds[0], (dir, mode) => Counted(Base, dir, mode)));
        Assert.Equal(4, unpacks);
        Assert.True(other.Has(stale));
    }

    [Theory]
    [InlineData(StorageDriver.Overlay)]
    [InlineData(StorageDriver.Vfs)]
    public void AContainerLayerIsCreatedMountedUnmountedAndRemoved(StorageDriver driver)
    {
        if (!IsRoot)
            return; // owners, setuid and overlay mounts need root; the suite runs as root
        using var box = new Sandbox();
        var store = new SnapshotStore(box.Target, driver);
        var chain = store.EnsureLayers([Digest.Sha256(Base), Digest.Sha256(Top)], (i, dir, mode) => UnpackWith(i == 0 ? Base : Top, dir, mode));
        Assert.Equal(SnapshotStore.ChainId([Digest.Sha256(Base), Digest.Sha256(Top)]), chain[1]);
        Assert.Equal(chain[0], store.ParentOf(chain[1]));

        var layer = store.CreateContainerLayer("c1", chain);
        Assert.Equal(driver, layer.Driver);
        var rootfs = store.Mount("c1");
        box.Mounts.Add(rootfs);
        Assert.Equal(rootfs, store.Mount("c1")); // a second mount is a no-op
        Assert.Equal(driver == StorageDriver.Overlay, store.IsMounted("c1"));
        try
        {
            Assert.Equal("top motd", File.ReadAllText(Path.Combine(rootfs, "etc/motd")));
            Assert.Equal("added", File.ReadAllText(Path.Combine(rootfs, "etc/added")));
            Assert.False(File.Exists(Path.Combine(rootfs, "etc/gone")));
            var su = LayerUnpackerTests.Stat(Path.Combine(rootfs, "bin/su"));
            Assert.Equal("104755", Convert.ToString(su.Mode, 8));
            var tool = LayerUnpackerTests.Stat(Path.Combine(rootfs, "bin/tool"));
            Assert.Equal((1000u, 1000u, 2u), (tool.Uid, tool.Gid, tool.LinkCount));
            Assert.Equal(tool.Inode, LayerUnpackerTests.Stat(Path.Combine(rootfs, "bin/tool-link")).Inode);
            Assert.Equal("busybox", new FileInfo(Path.Combine(rootfs, "bin/sh")).LinkTarget);

            // The container writes only into its own layer.
            File.WriteAllText(Path.Combine(rootfs, "etc/motd"), "changed");
            File.Delete(Path.Combine(rootfs, "etc/added"));
            Assert.Equal("top motd", File.ReadAllText(Path.Combine(store.DiffPath(chain[1]), "etc/motd")));
            Assert.True(File.Exists(Path.Combine(store.DiffPath(chain[1]), "etc/added")));
            if (driver == StorageDriver.Overlay)
                Assert.Equal("changed", File.ReadAllText(Path.Combine(layer.UpperDirectory!, "etc/motd")));
        }
        finally
        {
            store.Unmount("c1");
            box.Mounts.Remove(rootfs);
        }
        Assert.False(store.IsMounted("c1"));
        if (driver == StorageDriver.Overlay)
            Assert.Empty(Directory.EnumerateFileSystemEntries(rootfs));
        Assert.Equal("changed", File.ReadAllText(Path.Combine(driver == StorageDriver.Overlay ? layer.UpperDirectory! : layer.Rootfs, "etc/motd")));

        var again = Assert.Throws<InvalidOperationException>(() => store.CreateContainerLayer("c1", chain));
        Assert.Contains("already has a filesystem layer", again.Message);
        store.RemoveContainerLayer("c1");
        Assert.Null(store.GetContainerLayer("c1"));
        Assert.False(Directory.Exists(layer.Directory));
        Assert.True(store.Has(chain[1]));
    }

    [Fact]
    public void AFailedContainerLayerLeavesNothingBehind()
    {
        using var box = new Sandbox();
        var store = new SnapshotStore(box.Target, StorageDriver.Vfs);
        var error = Assert.Throws<InvalidOperationException>(() => store.CreateContainerLayer("c2", [Digest.Sha256("absent"u8)]));
        Assert.Contains("is not in the store", error.Message);
        Assert.Null(store.GetContainerLayer("c2"));
        Assert.Throws<ArgumentException>(() => store.CreateContainerLayer("../escape", [Digest.Sha256("absent"u8)]));

        if (!IsRoot)
            return;
        // A vfs copy that fails midway (here: the containers directory is a 256 KiB tmpfs and the image
        // holds a 1 MiB file) leaves no partial directory behind.
        var big = new TarBuilder().Directory("data/").File("data/small", "x").FileBytes("data/big", new byte[1 << 20]).Build();
        var chainId = store.EnsureLayer(null, Digest.Sha256(big), (dir, mode) => UnpackWith(big, dir, mode));
        var containers = Path.Combine(box.Target, "containers");
        Directory.CreateDirectory(containers);
        Libc.Mount("tmpfs", containers, "tmpfs", 0, "size=256k");
        box.Mounts.Add(containers);
        var full = Assert.ThrowsAny<Exception>(() => store.CreateContainerLayer("c3", [chainId]));
        Assert.Contains("No space left", full.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(containers));
        Assert.Null(store.GetContainerLayer("c3"));
    }

    [Fact]
    public void MoatStorageDriverVfsForcesTheCopyingDriver()
    {
        using var box = new Sandbox();
        var before = Environment.GetEnvironmentVariable(StorageDriverProbe.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(StorageDriverProbe.EnvironmentVariable, "vfs");
            Assert.Equal(StorageDriver.Vfs, new SnapshotStore(box.Target).Driver);
            Environment.SetEnvironmentVariable(StorageDriverProbe.EnvironmentVariable, "zfs");
            var error = Assert.Throws<ArgumentException>(() => new SnapshotStore(box.Target));
            Assert.Contains("not a storage driver", error.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(StorageDriverProbe.EnvironmentVariable, before);
        }
        if (IsRoot && before is null or "")
            Assert.Equal(StorageDriver.Overlay, new SnapshotStore(box.Target).Driver);
    }

    [Fact]
    public void TheProbesVerdictIsKeptForTheBootAndOnlyForIt()
    {
        if (Environment.GetEnvironmentVariable(StorageDriverProbe.EnvironmentVariable) is { Length: > 0 })
            return;
        var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        string KeyOf(string root, string bootId)
        {
            var st = Libc.TryStatAt(Libc.AT_FDCWD, Path.Combine(root, "."))!.Value;
            return $"boot {bootId} device {st.DeviceMajor}:{st.DeviceMinor} rootless 0 driver ";
        }
        // A verdict of this boot is believed: "vfs" here although overlay works for root (no probe ran).
        using (var box = new Sandbox())
        {
            Directory.CreateDirectory(box.Target);
            File.WriteAllText(Path.Combine(box.Target, StorageDriverProbe.VerdictFile), KeyOf(box.Target, boot) + "vfs\n");
            Assert.Equal(StorageDriver.Vfs, new SnapshotStore(box.Target).Driver);
        }
        // One of another boot is not: the probe runs and its verdict replaces the old one.
        using (var box = new Sandbox())
        {
            Directory.CreateDirectory(box.Target);
            var verdict = Path.Combine(box.Target, StorageDriverProbe.VerdictFile);
            File.WriteAllText(verdict, KeyOf(box.Target, "00000000-0000-0000-0000-000000000000") + "vfs\n");
            var driver = new SnapshotStore(box.Target).Driver;
            Assert.Equal(IsRoot ? StorageDriver.Overlay : driver, driver);
            Assert.Equal(KeyOf(box.Target, boot) + (driver == StorageDriver.Overlay ? "overlay" : "vfs") + "\n", File.ReadAllText(verdict));
        }
    }
}
