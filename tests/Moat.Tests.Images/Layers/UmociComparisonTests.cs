using System.Text.Json;
using Moat.Images.Layers;
using Moat.Images.Model;
using Moat.Interop;

namespace Moat.Tests.Images.Layers;

/// <summary>
/// The same busybox layer unpacked by umoci and by Moat must give the same tree (type, mode, owner, size,
/// link targets): umoci is the reference unpacker the bench compares with.
/// </summary>
public class UmociComparisonTests
{
    [Fact]
    public void ABusyboxLayerUnpacksAsUmociUnpacksIt()
    {
        if (Libc.geteuid() != 0 || !File.Exists("/usr/bin/umoci") || !File.Exists("/bin/busybox"))
            return; // the suite runs as root with umoci and busybox-static installed
        using var box = new Sandbox();
        var rootfs = Path.Combine(box.Root, "rootfs");
        MakeBusyboxRootfs(rootfs);
        var tar = Path.Combine(box.Root, "layer.tar");
        LayerUnpackerTests.Run("tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", rootfs, "-cf", tar, ".");

        var layout = Path.Combine(box.Root, "layout");
        LayerUnpackerTests.Run("umoci", "init", "--layout", layout);
        LayerUnpackerTests.Run("umoci", "new", "--image", layout + ":t");
        LayerUnpackerTests.Run("umoci", "raw", "add-layer", "--image", layout + ":t", tar);
        var bundle = Path.Combine(box.Root, "bundle");
        LayerUnpackerTests.Run("umoci", "unpack", "--image", layout + ":t", bundle);

        var (blob, mediaType, diffId) = LayerOf(layout);
        var ours = Path.Combine(box.Target, "rootfs");
        var result = LayerUnpacker.Unpack(blob, MediaTypes.LayerCompressionOf(mediaType), ours, new UnpackOptions());
        Assert.Equal(diffId, result.DiffId);
        Assert.Equal(Digest.Sha256(File.ReadAllBytes(tar)), result.DiffId);

        var theirs = TreeListing.Of(Path.Combine(bundle, "rootfs"));
        Assert.True(theirs.Count > 10, "umoci's tree is suspiciously small");
        Assert.Equal(theirs, TreeListing.Of(ours));
        Assert.Equal(Libc.GetXattr(Path.Combine(bundle, "rootfs/bin/ping"), "security.capability"),
            Libc.GetXattr(Path.Combine(ours, "bin/ping"), "security.capability"));
    }

    static void MakeBusyboxRootfs(string rootfs)
    {
        foreach (var dir in new[] { "bin", "etc", "tmp", "dev", "home/user", "var/empty" })
            Directory.CreateDirectory(Path.Combine(rootfs, dir));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin/busybox"));
        foreach (var applet in new[] { "sh", "ls", "cat", "echo", "mount" })
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        File.CreateSymbolicLink(Path.Combine(rootfs, "bin/abs"), "/bin/busybox");
        File.WriteAllText(Path.Combine(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin/su"));
        LayerUnpackerTests.Run("chmod", "4755", Path.Combine(rootfs, "bin/su"));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin/ping"));
        LayerUnpackerTests.Run("setcap", "cap_net_raw+ep", Path.Combine(rootfs, "bin/ping"));
        LayerUnpackerTests.Run("ln", Path.Combine(rootfs, "bin/busybox"), Path.Combine(rootfs, "bin/hardlinked"));
        LayerUnpackerTests.Run("chown", "-R", "1000:1000", Path.Combine(rootfs, "home/user"));
        LayerUnpackerTests.Run("chmod", "0700", Path.Combine(rootfs, "home/user"));
        LayerUnpackerTests.Run("chmod", "1777", Path.Combine(rootfs, "tmp"));
        LayerUnpackerTests.Run("chmod", "0555", Path.Combine(rootfs, "var/empty"));
        LayerUnpackerTests.Run("mknod", "-m", "666", Path.Combine(rootfs, "dev/null"), "c", "1", "3");
        LayerUnpackerTests.Run("mkfifo", Path.Combine(rootfs, "dev/fifo"));
    }

    static (string Blob, string MediaType, Digest DiffId) LayerOf(string layout)
    {
        string BlobPath(string digest) => Path.Combine(layout, "blobs", digest.Replace(':', '/'));
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "index.json")));
        var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        using var manifest = JsonDocument.Parse(File.ReadAllText(BlobPath(manifestDigest)));
        var layer = manifest.RootElement.GetProperty("layers")[0];
        var configDigest = manifest.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
        using var config = JsonDocument.Parse(File.ReadAllText(BlobPath(configDigest)));
        var diffId = Digest.Parse(config.RootElement.GetProperty("rootfs").GetProperty("diff_ids")[0].GetString()!);
        return (BlobPath(layer.GetProperty("digest").GetString()!), layer.GetProperty("mediaType").GetString()!, diffId);
    }
}
