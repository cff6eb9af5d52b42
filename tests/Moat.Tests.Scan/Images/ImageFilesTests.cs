using System.Text;
using Moat.Images.Service;
using Moat.Images.Storage;

namespace Moat.Tests.Scan.Images;

/// <summary>Reading files from overlay layers as overlayfs would merge them, and refusing to leave the layers.</summary>
public sealed class ImageFilesTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("moat-imagefiles-").FullName;

    public void Dispose() => TestStore.Run("rm", "-rf", directory);

    string Layer(string name)
    {
        var path = Path.Combine(directory, name);
        Directory.CreateDirectory(path);
        return path;
    }

    static void Write(string layer, string path, string text)
    {
        var full = Path.Combine(layer, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }

    static void Whiteout(string layer, string path)
    {
        var full = Path.Combine(layer, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        TestStore.Run("mknod", full, "c", "0", "0");
    }

    static void SetOpaque(string path, string attribute)
    {
        using var fd = Moat.Interop.Libc.Open(path, Moat.Interop.Libc.O_RDONLY | Moat.Interop.Libc.O_DIRECTORY | Moat.Interop.Libc.O_CLOEXEC);
        Moat.Interop.Libc.SetXattr(fd.Fd, attribute, "y"u8, path);
    }

    static string? Text(ImageFiles files, string path) => files.ReadFile(path) is { } b ? Encoding.UTF8.GetString(b) : null;

    [Fact]
    public void MergesLayersWithWhiteoutsOpaqueDirectoriesAndSymlinksAcrossLayers()
    {
        var bottom = Layer("bottom");
        var middle = Layer("middle");
        var top = Layer("top");
        Write(bottom, "etc/a", "bottom a");
        Write(bottom, "etc/b", "bottom b");
        Write(bottom, "var/lib/dpkg/status.d/one", "one");
        Write(bottom, "var/lib/dpkg/status.d/two", "two");
        Write(bottom, "usr/lib/os-release", "ID=debian\n");
        File.CreateSymbolicLink(Path.Combine(bottom, "etc/os-release"), "../usr/lib/os-release");
        Write(middle, "etc/a", "middle a");
        Whiteout(middle, "etc/b");
        Directory.CreateDirectory(Path.Combine(middle, "var/lib/dpkg/status.d"));
        Write(middle, "var/lib/dpkg/status.d/three", "three");
        SetOpaque(Path.Combine(middle, "var/lib/dpkg/status.d"), "trusted.overlay.opaque");
        // A symlink in the top layer to a file only a lower layer has, through an absolute path.
        Directory.CreateDirectory(Path.Combine(top, "lib"));
        File.CreateSymbolicLink(Path.Combine(top, "lib/link"), "/usr/lib/os-release");
        Write(top, "usr/lib/other", "top other");

        using var files = new ImageFiles([top, middle, bottom], overlay: true, "test image");
        Assert.Equal("middle a", Text(files, "/etc/a"));
        Assert.Null(Text(files, "/etc/b"));                         // whited out
        Assert.Equal("ID=debian\n", Text(files, "/etc/os-release"));   // relative symlink in a lower layer
        Assert.Equal("ID=debian\n", Text(files, "/lib/link"));         // absolute symlink across layers
        Assert.Equal(["three"], files.ListDirectory("/var/lib/dpkg/status.d"));  // opaque: the bottom's two are hidden
        Assert.Equal(["a", "os-release"], files.ListDirectory("/etc"));
        Assert.Equal(["lib"], files.ListDirectory("/usr"));
        Assert.Equal(["os-release", "other"], files.ListDirectory("/usr/lib"));
        Assert.Null(files.ListDirectory("/nowhere"));
    }

    [Fact]
    public void UserOpaqueMarksAreHonouredToo()
    {
        var bottom = Layer("b2");
        var top = Layer("t2");
        Write(bottom, "d/old", "old");
        Write(top, "d/new", "new");
        SetOpaque(Path.Combine(top, "d"), "user.overlay.opaque");
        using var files = new ImageFiles([top, bottom], overlay: true, "test image");
        Assert.Equal(["new"], files.ListDirectory("/d"));
        Assert.Null(files.ReadFile("/d/old"));
    }

    [Fact]
    public void SymlinksCannotLeaveTheImage()
    {
        var layer = Layer("escape");
        var outside = Path.Combine(directory, "secret");
        File.WriteAllText(outside, "host secret");
        Directory.CreateDirectory(Path.Combine(layer, "etc"));
        File.CreateSymbolicLink(Path.Combine(layer, "etc/os-release"), "../../../../../../.." + outside);
        File.CreateSymbolicLink(Path.Combine(layer, "etc/absolute"), outside);
        File.CreateSymbolicLink(Path.Combine(layer, "etc/loop"), "/etc/loop");
        using var files = new ImageFiles([layer], overlay: true, "test image");
        // ".." stops at the image's root, and absolute targets start there: the host's file is never read.
        Assert.Null(files.ReadFile("/etc/os-release"));
        Assert.Null(files.ReadFile("/etc/absolute"));
        var loop = Assert.Throws<StorageException>(() => files.ReadFile("/etc/loop"));
        Assert.Contains("symlinks", loop.Message);
        Directory.CreateDirectory(Path.Combine(layer, "dir"));
        Assert.Throws<StorageException>(() => files.ReadFile("/dir"));
    }

    [Fact]
    public void OneVfsTreeIsReadWithoutWhiteoutRules()
    {
        var tree = Layer("vfs");
        Write(tree, "etc/x", "x");
        TestStore.Run("mknod", Path.Combine(tree, "etc/dev"), "c", "0", "0");
        using var files = new ImageFiles([tree], overlay: false, "test image");
        Assert.Equal("x", Text(files, "/etc/x"));
        Assert.Contains("dev", files.ListDirectory("/etc")!);   // a device node, not a whiteout, in a vfs tree
    }
}
