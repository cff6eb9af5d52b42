using Moat.Images.Archives;
using Moat.Images.Model;

namespace Moat.Tests.Images.Archives;

public sealed class OciArchiveTests : IDisposable
{
    readonly TestBlobStore source = new();
    readonly TestBlobStore target = new();
    readonly string scratch = Directory.CreateTempSubdirectory("moat-oci-archive-").FullName;

    public void Dispose()
    {
        source.Dispose();
        target.Dispose();
        Directory.Delete(scratch, recursive: true);
    }

    [Fact]
    public void WhatMoatWritesSkopeoReadsWithTheSameDigests()
    {
        var image = TestImages.Busybox(source);
        var file = Path.Combine(scratch, "busybox.tar");
        using (var output = File.Create(file))
            OciArchive.Write(source, [new ArchiveSource(image.Manifest, ["latest"])], output);

        var inspect = TestImages.RunJson("skopeo", "inspect", $"oci-archive:{file}:latest");
        Assert.Equal(image.Manifest.ToString(), inspect.GetProperty("Digest").GetString());
        Assert.Equal([image.Layer.ToString()], inspect.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()));
        var config = TestImages.RunJson("skopeo", "inspect", "--config", $"oci-archive:{file}:latest");
        Assert.Equal(image.DiffId.ToString(), config.GetProperty("rootfs").GetProperty("diff_ids")[0].GetString());

        // And it reads back into another store as it was.
        using var input = File.OpenRead(file);
        var found = Assert.Single(OciArchive.Read(input, target));
        Assert.Equal((image.Manifest, image.Config, MediaTypes.OciManifest), (found.ManifestDigest, found.ConfigDigest, found.ManifestMediaType));
        Assert.Equal(["latest"], found.Names);
        Assert.True(target.Contains(image.Layer));
        Assert.Equal(source.ReadAll(image.Manifest), found.Manifest);
    }

    [Fact]
    public void ReadsWhatSkopeoWrites()
    {
        var image = TestImages.Busybox(source, "v1");
        var file = Path.Combine(scratch, "from-skopeo.tar");
        TestImages.Run("skopeo", "--insecure-policy", "copy", $"oci:{source.Root}:v1", $"oci-archive:{file}:mytag");

        using var input = File.OpenRead(file);
        var found = Assert.Single(OciArchive.Read(input, target));
        Assert.Equal(image.Manifest, found.ManifestDigest);
        Assert.Equal(image.Config, found.ConfigDigest);
        Assert.Equal(["mytag"], found.Names);
        Assert.True(target.Contains(image.Layer));
    }

    [Fact]
    public void OneImageWithSeveralNamesIsOneEntryEach()
    {
        var image = TestImages.Busybox(source);
        var file = Path.Combine(scratch, "two-names.tar");
        using (var output = File.Create(file))
            OciArchive.Write(source, [new ArchiveSource(image.Manifest, ["a", "b"])], output);
        Assert.Equal(image.Manifest.ToString(), TestImages.RunJson("skopeo", "inspect", $"oci-archive:{file}:b").GetProperty("Digest").GetString());
        using var input = File.OpenRead(file);
        Assert.Equal(["a", "b"], Assert.Single(OciArchive.Read(input, target)).Names);
    }

    [Fact]
    public void AnIncompleteImageIsNotWritten()
    {
        var image = TestImages.Busybox(source);
        source.Delete(image.Layer);
        using var output = new MemoryStream();
        var error = Assert.Throws<ArchiveException>(() => OciArchive.Write(source, [new ArchiveSource(image.Manifest, ["x"])], output));
        Assert.Contains(image.Layer.ToString(), error.Message);
    }

    [Fact]
    public void ALyingOrHostileArchiveIsRefusedAndPlantsNothing()
    {
        var image = TestImages.Busybox(source);
        var file = Path.Combine(scratch, "lying.tar");
        using (var output = File.Create(file))
        using (var tar = new System.Formats.Tar.TarWriter(output, System.Formats.Tar.TarEntryFormat.Pax))
        {
            void Add(string name, byte[] content) =>
                tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            Add("oci-layout", System.Text.Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"));
            Add("../../tmp/moat-evil", [1]);
            Add("/tmp/moat-evil-abs", [1]);
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.SymbolicLink, $"blobs/sha256/{image.Config.Hex}") { LinkName = "/etc/shadow" });
            Add($"blobs/sha256/{image.Layer.Hex}", [9, 9, 9]);
        }
        using var input = File.OpenRead(file);
        var error = Assert.Throws<ArchiveException>(() => OciArchive.Read(input, target));
        Assert.Contains("does not match its digest", error.Message);
        Assert.Empty(target.List());
        Assert.False(File.Exists("/tmp/moat-evil") || File.Exists("/tmp/moat-evil-abs"));
    }
}
