using Moat.Images.Layers;
using Moat.Images.Snapshots;
using Moat.Interop;

namespace Moat.Tests.Images.Layers;

/// <summary>
/// Whiteouts in both forms, checked against the kernel: two layers unpacked for overlay and mounted must
/// show exactly the tree that applying the same layers one on the other gives.
/// </summary>
public class WhiteoutTests
{
    static readonly byte[] Lower = new TarBuilder()
        .Directory("a/").File("a/x", "x").File("a/y", "y")
        .Directory("b/").File("b/z", "z")
        .Directory("c/").File("c/old", "old").Directory("c/sub/").File("c/sub/deep", "deep")
        .Directory("d/").File("d/old", "old")
        .Directory("e/").File("e/keep", "keep")
        .Build();

    static readonly byte[] Upper = new TarBuilder()
        .File("a/.wh.x", "")
        .File(".wh.b", "")
        .Directory("c/").File("c/.wh..wh..opq", "").File("c/new", "new").Directory("c/sub/").File("c/sub/fresh", "fresh")
        // The opaque marker after this layer's own member of the same directory: that member stays.
        .Directory("d/").File("d/new", "new").File("d/.wh..wh..opq", "")
        .File("f/.wh..wh..opq", "")
        .File(".wh..wh.plnk", "")
        .Build();

    static readonly string[] Expected =
    [
        "a 40755 0:0", "a/y 100644 0:0 1",
        "c 40755 0:0", "c/new 100644 0:0 3", "c/sub 40755 0:0", "c/sub/fresh 100644 0:0 5",
        "d 40755 0:0", "d/new 100644 0:0 3",
        "e 40755 0:0", "e/keep 100644 0:0 4",
        "f 40755 0:0",
    ];

    [Fact]
    public void ApplyModeDeletesWhatLowerLayersHeldButNotThisLayersOwnMembers()
    {
        using var box = new Sandbox();
        LayerUnpackerTests.Unpack(Lower, box.Target, new UnpackOptions { Whiteouts = WhiteoutMode.Apply });
        LayerUnpackerTests.Unpack(Upper, box.Target, new UnpackOptions { Whiteouts = WhiteoutMode.Apply });
        Assert.Equal(Expected, TreeListing.Of(box.Target));
    }

    [Fact]
    public void OverlayModeMakesWhiteoutDevicesAndOpaqueXattrsThatAMountedOverlayHonours()
    {
        if (Libc.geteuid() != 0)
            return; // trusted.overlay.* and mounting need root; the suite runs as root
        using var box = new Sandbox();
        var lower = Path.Combine(box.Target, "lower");
        var upper = Path.Combine(box.Target, "upper");
        LayerUnpackerTests.Unpack(Lower, lower);
        LayerUnpackerTests.Unpack(Upper, upper);

        var whiteout = LayerUnpackerTests.Stat(Path.Combine(upper, "a/x"));
        Assert.Equal((Libc.S_IFCHR, 0u, 0u), (whiteout.Type, whiteout.RdevMajor, whiteout.RdevMinor));
        Assert.Equal(Libc.S_IFCHR, LayerUnpackerTests.Stat(Path.Combine(upper, "b")).Type);
        foreach (var dir in new[] { "c", "d", "f" })
            Assert.Equal("y"u8.ToArray(), Libc.GetXattr(Path.Combine(upper, dir), "trusted.overlay.opaque"));
        Assert.Null(Libc.GetXattr(Path.Combine(upper, "c/sub"), "trusted.overlay.opaque"));
        Assert.False(File.Exists(Path.Combine(upper, "c/.wh..wh..opq")));
        Assert.False(File.Exists(Path.Combine(upper, ".wh..wh.plnk")));

        var merged = Path.Combine(box.Target, "merged");
        Directory.CreateDirectory(merged);
        OverlayMount.Mount([upper, lower], null, null, merged);
        box.Mounts.Add(merged);
        try
        {
            Assert.Equal(Expected, TreeListing.Of(merged));
        }
        finally
        {
            OverlayMount.Unmount(merged);
            box.Mounts.Remove(merged);
        }
    }
}
