using Moat.Images.Storage;

namespace Moat.Tests.Images.Storage;

public class StorageLayoutTests : IDisposable
{
    readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void SubpathsHangOffTheRoot()
    {
        var layout = StorageLayout.ForCurrentUser(temp.Combine("root"));
        Assert.Equal(temp.Combine("root"), layout.Root);
        Assert.Equal(temp.Combine("root", "images"), layout.Images);
        Assert.Equal(temp.Combine("root", "images.db"), layout.CatalogDatabase);
        Assert.Equal(temp.Combine("root", "snapshots"), layout.Snapshots);
        Assert.Equal(temp.Combine("root", "containers"), layout.Containers);
    }

    [Fact]
    public void RootUsesVarLibMoat() => Assert.Equal("/var/lib/moat", StorageLayout.DefaultRoot(isRoot: true));

    [Theory]
    [InlineData("/data", "/home/u", "/data/moat")]
    [InlineData(null, "/home/u", "/home/u/.local/share/moat")]
    [InlineData("", "/home/u", "/home/u/.local/share/moat")]
    [InlineData("relative/data", "/home/u", "/home/u/.local/share/moat")]
    public void AUsersRootFollowsXdgDataHome(string? dataHome, string home, string expected) =>
        Assert.Equal(expected, StorageLayout.DefaultRoot(isRoot: false, dataHome, home));

    [Fact]
    public void AUserWithoutAHomeIsToldToGiveARoot()
    {
        var error = Assert.Throws<StorageException>(() => StorageLayout.DefaultRoot(isRoot: false, null, null));
        Assert.Contains("--root", error.Message);
    }

    [Fact]
    public void AnOverrideWins() => Assert.Equal("/srv/moat", StorageLayout.ForCurrentUser("/srv/moat").Root);

    [Fact]
    public void RootsTreeIsTraversableButNotListableAndImagesArePrivate()
    {
        var layout = new StorageLayout(temp.Combine("system", "moat"), forRoot: true).EnsureCreated();
        const UnixFileMode traversable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(traversable, File.GetUnixFileMode(layout.Root));
        Assert.Equal(traversable, File.GetUnixFileMode(layout.Snapshots));
        Assert.Equal(traversable, File.GetUnixFileMode(layout.Containers));
        Assert.Equal(owner, File.GetUnixFileMode(layout.Images));
    }

    [Fact]
    public void AUsersTreeIsPrivateAndExistingModesAreKept()
    {
        var root = temp.Combine("user", "moat");
        Directory.CreateDirectory(Path.Combine(root, "containers"));
        File.SetUnixFileMode(Path.Combine(root, "containers"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        var layout = new StorageLayout(root, forRoot: false).EnsureCreated();
        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(owner, File.GetUnixFileMode(layout.Snapshots));
        Assert.Equal(owner, File.GetUnixFileMode(layout.Images));
        Assert.Equal(owner | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, File.GetUnixFileMode(layout.Containers));
    }

    [Fact]
    public void TheLayoutOpensItsStoreAndCatalogue()
    {
        var layout = new StorageLayout(temp.Combine("r"), forRoot: false);
        var blobs = layout.OpenBlobStore();
        using var catalog = layout.OpenCatalog();
        Assert.Equal(layout.Images, blobs.Root);
        Assert.True(File.Exists(Path.Combine(layout.Images, "oci-layout")));
        Assert.True(File.Exists(layout.CatalogDatabase));
        Assert.Empty(catalog.List());
    }

    [Fact]
    public void AnEmptyRootIsRefused() => Assert.Throws<ArgumentException>(() => new StorageLayout(" ", forRoot: false));
}
