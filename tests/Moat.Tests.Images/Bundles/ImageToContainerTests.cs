using Moat.Images.Archives;
using Moat.Images.Bundles;
using Moat.Images.Service;
using Moat.Images.Storage;
using Moat.Tests.Images.Cli;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Images.Bundles;

/// <summary>
/// The whole path issue 15 builds, end to end and real: an image in the store, a container layer over its
/// snapshots (overlay, and the copying fallback), a bundle from the image's config with the secure defaults,
/// run by bin/moat-runtime; the container reports what it sees.
/// </summary>
public sealed class ImageToContainerTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("moat-image-run-").FullName;

    public void Dispose() => Tool.Run("rm", "-rf", directory);

    static string Runtime => Path.Combine(Path.GetDirectoryName(MoatProcess.Binary)!, "moat-runtime");

    [Theory]
    [InlineData("overlay")]
    [InlineData("vfs")]
    public void AnImageRunsUnderTheRuntimeWithTheSecureDefaults(string driver)
    {
        var previous = Environment.GetEnvironmentVariable("MOAT_STORAGE_DRIVER");
        Environment.SetEnvironmentVariable("MOAT_STORAGE_DRIVER", driver);
        var id = "image-run-" + driver;
        using var images = new ImageService(new ImageServiceOptions { Root = Path.Combine(directory, "store") });
        try
        {
            var rootfs = Path.Combine(directory, "rootfs");
            Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
            Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
            Directory.CreateDirectory(Path.Combine(rootfs, "home", "app"));
            File.Copy(TestImages.BusyboxPath, Path.Combine(rootfs, "bin", "busybox"));
            File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
            File.WriteAllText(Path.Combine(rootfs, "etc", "group"), "root:x:0:\napp:x:1000:\nextra:x:2000:app\n");
            Tool.Run("chown", "1000:1000", Path.Combine(rootfs, "home", "app"));
            var tarball = Path.Combine(directory, "rootfs.tar");
            Tool.Run("tar", "-cf", tarball, "-C", rootfs, ".");
            ImageRecord image;
            using (var stream = File.OpenRead(tarball))
                image = images.Import(stream, "runnable:1", new ImportOptions
                {
                    Changes = ["USER app", "WORKDIR /home/app", "ENV GREETING=hello", "ENTRYPOINT [\"/bin/busybox\"]"],
                });
            Assert.Equal(driver == "overlay" ? Moat.Images.Snapshots.StorageDriver.Overlay : Moat.Images.Snapshots.StorageDriver.Vfs, images.Snapshots.Driver);

            var layer = images.Snapshots.CreateContainerLayer(id, images.ChainIdsOf(image));
            var mounted = images.Snapshots.Mount(id);
            var bundle = Path.Combine(directory, "bundle-" + driver);
            Directory.CreateDirectory(bundle);
            BundleBuilder.Create(bundle, images.ConfigOf(image), mounted, new BundleOptions
            {
                Command = ["sh", "-c", "id; echo $GREETING $HOME; pwd; grep -E '^(NoNewPrivs|Seccomp|CapEff):' /proc/self/status; touch /home/app/written && echo wrote; touch /denied 2>/dev/null || echo refused"],
            });

            var output = Tool.Run(Runtime, "--root", Path.Combine(directory, "state"), "run", "--bundle", bundle, id);
            Assert.Contains("uid=1000(app) gid=1000(app) groups=", output);
            Assert.Contains("2000(extra)", output);
            Assert.Contains("hello /home/app", output);
            Assert.Contains("/home/app\n", output);
            Assert.Contains("NoNewPrivs:\t1", output);
            Assert.Contains("Seccomp:\t2", output);
            Assert.Contains("CapEff:\t0000000000000000", output); // a non-root user keeps no effective capabilities
            // The container writes where the image lets its user write, into its own layer, and nowhere else.
            Assert.Contains("wrote\nrefused", output);
            Assert.True(File.Exists(Path.Combine(mounted, "home", "app", "written")));

            // The image's snapshot is untouched by what the container did.
            images.Snapshots.Unmount(id);
            images.Snapshots.RemoveContainerLayer(id);
            Assert.Null(images.Snapshots.GetContainerLayer(id));
            Assert.All(images.ChainIdsOf(image), chain => Assert.True(images.Snapshots.Has(chain)));
            Assert.False(File.Exists(Path.Combine(images.Snapshots.DiffPath(images.ChainIdsOf(image)[^1]), "home", "app", "written")));
            Assert.False(Directory.Exists(layer.Directory));
        }
        finally
        {
            Environment.SetEnvironmentVariable("MOAT_STORAGE_DRIVER", previous);
            try { Tool.Run(Runtime, "--root", Path.Combine(directory, "state"), "delete", "--force", id); } catch (InvalidOperationException) { }
            try { images.Snapshots.Unmount(id); } catch (Exception) { }
        }
    }
}
