using Moat.Tests.Images.Registry;
using System.Text;
using System.Text.Json;
using Moat.Images.Archives;
using Moat.Images.Model;

namespace Moat.Tests.Images.Archives;

public sealed class RootfsImportTests : IDisposable
{
    readonly TestBlobStore store = new();
    readonly string scratch = Directory.CreateTempSubdirectory("moat-import-").FullName;

    public void Dispose()
    {
        store.Dispose();
        Directory.Delete(scratch, recursive: true);
    }

    ImportOptions Options => new() { TemporaryDirectory = scratch };

    [Fact]
    public void ATarballBecomesAOneLayerImage()
    {
        var tar = TestImages.BusyboxTar();
        var created = new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
        var imported = RootfsImport.Import(new MemoryStream(TestImages.Gzip(tar)), store, Options with
        {
            Created = created,
            Message = "from a test",
            Changes = ["CMD [\"/bin/sh\", \"-c\", \"echo hi\"]", "ENV A=1 B=\"two words\"", "WORKDIR /srv", "USER 1000:1000",
                "LABEL org.example=yes", "EXPOSE 80 53/udp", "STOPSIGNAL SIGTERM", "ENTRYPOINT /bin/busybox"],
        });

        var manifest = JsonSerializer.Deserialize(imported.Manifest, ImageJsonContext.Default.ImageManifest)!;
        Assert.Equal(imported.ManifestDigest, Digest.Sha256(imported.Manifest));
        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
        var layer = Assert.Single(manifest.Layers);
        Assert.Equal(MediaTypes.OciLayerGzip, layer.MediaType);
        Assert.Equal(store.SizeOf(layer.ParsedDigest), layer.Size);

        var config = JsonSerializer.Deserialize(store.ReadAll(imported.ConfigDigest), ImageJsonContext.Default.ImageConfig)!;
        Assert.Equal([Digest.Sha256(tar).ToString()], config.RootFs.DiffIds);
        Assert.Equal(("linux", "amd64", created), (config.Os, config.Architecture, config.Created));
        var history = Assert.Single(config.History!);
        Assert.Equal(("moat import", "from a test"), (history.CreatedBy, history.Comment));
        var c = config.Config!;
        Assert.Equal(["/bin/sh", "-c", "echo hi"], c.Cmd!);
        Assert.Equal(["/bin/sh", "-c", "/bin/busybox"], c.Entrypoint!);
        Assert.Equal(["A=1", "B=two words"], c.Env!);
        Assert.Equal(("/srv", "1000:1000", "SIGTERM"), (c.WorkingDir, c.User, c.StopSignal));
        Assert.Equal("yes", c.Labels!["org.example"]);
        Assert.Equal(["53/udp", "80/tcp"], c.ExposedPorts!.Keys.Order());

        // skopeo and umoci accept the result.
        TestImages.WriteIndex(store, imported.ManifestDigest, imported.Manifest.Length, "imported");
        var inspect = TestImages.RunJson("skopeo", "inspect", $"oci:{store.Root}:imported");
        Assert.Equal(imported.ManifestDigest.ToString(), inspect.GetProperty("Digest").GetString());
        var bundle = Path.Combine(scratch, "bundle");
        TestImages.Run("umoci", "unpack", "--image", $"{store.Root}:imported", bundle);
        Assert.True(File.Exists(Path.Combine(bundle, "rootfs", "bin", "busybox")));
    }

    [Fact]
    public void PlainGzipAndZstdInputGiveTheSameLayer()
    {
        var tar = TestImages.BusyboxTar();
        var plain = RootfsImport.Import(new MemoryStream(tar), store, Options with { Created = DateTimeOffset.UnixEpoch });
        var gzipped = RootfsImport.Import(new MemoryStream(TestImages.Gzip(tar)), store, Options with { Created = DateTimeOffset.UnixEpoch });
        Assert.Equal(plain.ConfigDigest, gzipped.ConfigDigest);
        Assert.Equal(plain.ManifestDigest, gzipped.ManifestDigest);
        var tarFile = Path.Combine(scratch, "input.tar");
        File.WriteAllBytes(tarFile, tar);
        Tool.Run("zstd", "-q", "-f", tarFile, "-o", tarFile + ".zst");
        var zstd = RootfsImport.Import(new MemoryStream(File.ReadAllBytes(tarFile + ".zst")), store, Options with { Created = DateTimeOffset.UnixEpoch });
        File.Delete(tarFile);
        File.Delete(tarFile + ".zst");
        Assert.Equal(plain.ManifestDigest, zstd.ManifestDigest);
    }

    [Fact]
    public void WhatIsNotATarballIsRefused()
    {
        var before = store.List().Count();
        Assert.Contains("not a tar archive", Assert.Throws<ArchiveException>(() => RootfsImport.Import(new MemoryStream(Encoding.UTF8.GetBytes(new string('x', 4096))), store, Options)).Message);
        Assert.Contains("not a tar archive", Assert.Throws<ArchiveException>(() => RootfsImport.Import(new MemoryStream([1, 2, 3]), store, Options)).Message);
        Assert.Contains("zstd", Assert.ThrowsAny<Exception>(() => RootfsImport.Import(new MemoryStream([0x28, 0xb5, 0x2f, 0xfd, 0, 0]), store, Options)).Message);
        Assert.Contains("not a tar archive (or its compression is damaged)", Assert.Throws<ArchiveException>(() => RootfsImport.Import(new MemoryStream([0x1f, 0x8b, 8, 0, 9, 9, 9, 9, 9, 9, 9]), store, Options)).Message);
        var gzip = TestImages.Gzip(TestImages.BusyboxTar());
        Assert.Contains("damaged or truncated", Assert.Throws<ArchiveException>(() => RootfsImport.Import(new MemoryStream(gzip[..(gzip.Length / 2)]), store, Options)).Message);
        Assert.Contains("damaged or truncated", Assert.Throws<ArchiveException>(() => RootfsImport.Import(new MemoryStream(TestImages.BusyboxTar()[..100_000]), store, Options)).Message);
        Assert.Contains("holds no files", Assert.Throws<ArchiveException>(() => RootfsImport.Import(new MemoryStream(new byte[1024]), store, Options)).Message);
        Assert.Equal(before, store.List().Count());
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
    }

    [Theory]
    [InlineData("RUN rm -rf /", "RUN is not one import takes")]
    [InlineData("CMD", "CMD needs an argument")]
    [InlineData("CMD [\"a\", 1]", "list of strings")]
    [InlineData("EXPOSE 99999", "is not a port")]
    [InlineData("ENV =x", "is not KEY=VALUE")]
    [InlineData("LABEL a=\"open", "not closed")]
    public void BadChangesAreRefused(string change, string message)
    {
        var error = Assert.Throws<ArchiveException>(() => RootfsImport.Import(new MemoryStream(TestImages.BusyboxTar()), store, Options with { Changes = [change] }));
        Assert.Contains(message, error.Message);
    }
}
