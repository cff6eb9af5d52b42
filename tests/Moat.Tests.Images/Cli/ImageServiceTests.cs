using Moat.Images.Archives;
using Moat.Images.Service;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Images.Cli;

/// <summary>The rules of rmi and prune that need a container using the image (the engine records users).</summary>
public sealed class ImageServiceTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("moat-service-").FullName;

    public void Dispose() => Tool.Run("rm", "-rf", directory);

    ImageService Open() => new(new ImageServiceOptions { Root = Path.Combine(directory, "store") });

    Moat.Images.Storage.ImageRecord ImportBusybox(ImageService images, string name)
    {
        var tarball = Path.Combine(directory, "busybox.tar");
        if (!File.Exists(tarball))
            Tool.Run("tar", "-cf", tarball, "-C", "/bin", "busybox");
        using var stream = File.OpenRead(tarball);
        return images.Import(stream, name, new ImportOptions { Created = DateTimeOffset.UnixEpoch });
    }

    /// <summary>Another image (a different creation time gives a different config).</summary>
    Moat.Images.Storage.ImageRecord ImportBusyboxAgain(ImageService images)
    {
        using var stream = File.OpenRead(Path.Combine(directory, "busybox.tar"));
        return images.Import(stream, "second:1", new ImportOptions { Created = DateTimeOffset.UnixEpoch.AddDays(1) });
    }

    [Fact]
    public void AnImageInUseIsRefusedThenForcedToLoseItsNamesButNotItsLayers()
    {
        using var images = Open();
        var image = ImportBusybox(images, "used:1");
        images.Catalog.AddUser(image.Id, "c1");

        var refused = Assert.Throws<ImageInUseException>(() => images.Remove("used:1", force: false));
        Assert.Contains("in use by container c1", refused.Message);

        Assert.Equal(["Untagged: localhost/used:1"], images.Remove("used:1", force: true));
        var kept = images.Catalog.Get(image.Id);
        Assert.NotNull(kept);
        Assert.Empty(kept.Names);
        Assert.All(images.ChainIdsOf(kept), chain => Assert.True(images.Snapshots.Has(chain)));

        // prune -a leaves it while the container exists, and takes it once the container is gone.
        Assert.Empty(images.Prune(all: true).Images);
        images.Catalog.RemoveUser("c1");
        var (pruned, freed) = images.Prune(all: false);
        Assert.Equal([image.Id], pruned);
        Assert.True(freed > 1_000_000, $"freed {freed} bytes");
        Assert.Empty(images.Snapshots.List());
        Assert.Empty(images.Blobs.List());
    }

    [Fact]
    public void ShortNamesFindLocalhostImagesAndAmbiguitiesAreNamed()
    {
        using var images = Open();
        var image = ImportBusybox(images, "tool:2");
        Assert.Equal(image.Id, images.Names.Get("tool:2").Id);
        Assert.Equal(image.Id, images.Names.Get("localhost/tool:2").Id);
        Assert.Equal(image.Id, images.Names.Get(image.Id.Short).Id);
        images.Tag("tool:2", "example.com/team/tool:2");
        images.Tag("tool:2", "example.org/other/tool:3");
        Assert.Equal(image.Id, images.Names.Get("tool:3").Id);
        Assert.Throws<ImageNotFoundException>(() => images.Names.Get("tool:4"));
        var other = ImportBusyboxAgain(images);
        images.Tag(other.Id.ToString(), "example.net/x/tool:5");
        images.Tag("tool:2", "example.com/y/tool:5");
        var ambiguous = Assert.Throws<ImageNotFoundException>(() => images.Names.Get("tool:5"));
        Assert.Contains("example.net/x/tool:5", ambiguous.Message);
        Assert.Contains("example.com/y/tool:5", ambiguous.Message);
    }
}
