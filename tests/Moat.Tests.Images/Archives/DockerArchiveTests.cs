using System.Formats.Tar;
using System.Text;
using Moat.Images.Archives;
using Moat.Images.Model;

namespace Moat.Tests.Images.Archives;

public sealed class DockerArchiveTests : IDisposable
{
    readonly TestBlobStore source = new();
    readonly TestBlobStore target = new();
    readonly string scratch = Directory.CreateTempSubdirectory("moat-docker-archive-").FullName;

    public void Dispose()
    {
        source.Dispose();
        target.Dispose();
        Directory.Delete(scratch, recursive: true);
    }

    [Fact]
    public void ReadsWhatSkopeoWrites()
    {
        var image = TestImages.Busybox(source, "v1");
        var file = Path.Combine(scratch, "busybox.tar");
        TestImages.Run("skopeo", "--insecure-policy", "copy", $"oci:{source.Root}:v1", $"docker-archive:{file}:example.org/busybox:v1");

        using var input = File.OpenRead(file);
        var found = Assert.Single(DockerArchive.Read(input, target, scratch));
        // The config travels verbatim: the image id is the same.
        Assert.Equal(image.Config, found.ConfigDigest);
        Assert.Equal(MediaTypes.DockerManifest, found.ManifestMediaType);
        Assert.Contains("example.org/busybox:v1", found.Names);
        var manifest = System.Text.Json.JsonSerializer.Deserialize(found.Manifest, ImageJsonContext.Default.ImageManifest)!;
        var layer = Assert.Single(manifest.Layers);
        // The layer is stored as the archive has it: the uncompressed tar, whose digest is the diff_id.
        Assert.Equal((image.DiffId.ToString(), MediaTypes.DockerLayerTar), (layer.Digest, layer.MediaType));
        Assert.Equal(image.LayerTar, target.ReadAll(image.DiffId));
        Assert.Equal(found.Manifest, target.ReadAll(found.ManifestDigest));
    }

    [Fact]
    public void WhatMoatWritesSkopeoReadsAndMoatReadsBack()
    {
        var image = TestImages.Busybox(source);
        var file = Path.Combine(scratch, "saved.tar");
        using (var output = File.Create(file))
            DockerArchive.Write(source, [new ArchiveSource(image.Manifest, ["example.org/busybox:v2"])], output, scratch);

        var inspect = TestImages.RunJson("skopeo", "inspect", $"docker-archive:{file}");
        Assert.Equal([image.DiffId.ToString()], inspect.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()));
        var config = TestImages.RunJson("skopeo", "inspect", "--config", $"docker-archive:{file}");
        Assert.Equal(image.DiffId.ToString(), config.GetProperty("rootfs").GetProperty("diff_ids")[0].GetString());

        using var input = File.OpenRead(file);
        var found = Assert.Single(DockerArchive.Read(input, target, scratch));
        Assert.Equal(image.Config, found.ConfigDigest);
        Assert.Equal(["example.org/busybox:v2"], found.Names);

        // The classic layout: manifest.json, <config hex>.json, <diff_id hex>/layer.tar, repositories.
        var names = new List<string>();
        using (var tar = new TarReader(File.OpenRead(file)))
            while (tar.GetNextEntry() is { } entry)
                names.Add(entry.Name);
        Assert.Contains("manifest.json", names);
        Assert.Contains($"{image.Config.Hex}.json", names);
        Assert.Contains($"{image.DiffId.Hex}/layer.tar", names);
        Assert.Contains("repositories", names);
    }

    [Fact]
    public void ReadsTheDocker25LayoutAndLegacyNamesAndRepeatedLayerSymlinks()
    {
        var image = TestImages.Busybox(source);
        var config = source.ReadAll(image.Config);
        var file = Path.Combine(scratch, "docker25.tar");
        using (var output = File.Create(file))
        using (var tar = new TarWriter(output, TarEntryFormat.Pax))
        {
            // Docker 25: blobs/sha256 names; manifest.json without RepoTags, names only in `repositories`;
            // and a second image whose layer is a symlink to the first's, as docker save writes repeats.
            Add(tar, $"blobs/sha256/{image.Config.Hex}", config);
            Add(tar, $"blobs/sha256/{image.DiffId.Hex}", image.LayerTar);
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "other/layer.tar") { LinkName = $"../blobs/sha256/{image.DiffId.Hex}" });
            Add(tar, "manifest.json", Encoding.UTF8.GetBytes(
                $"[{{\"Config\":\"blobs/sha256/{image.Config.Hex}\",\"RepoTags\":null,\"Layers\":[\"blobs/sha256/{image.DiffId.Hex}\"]}}," +
                $"{{\"Config\":\"blobs/sha256/{image.Config.Hex}\",\"Layers\":[\"other/layer.tar\"]}}]"));
            Add(tar, "repositories", Encoding.UTF8.GetBytes($"{{\"old/style\":{{\"latest\":\"blobs\"}},\"other\":{{\"t\":\"other\"}}}}"));
        }
        using var input = File.OpenRead(file);
        var found = DockerArchive.Read(input, target, scratch);
        Assert.Equal(2, found.Count);
        Assert.All(found, f => Assert.Equal(image.Config, f.ConfigDigest));
        Assert.Equal(["old/style:latest"], found[0].Names);
        Assert.Equal(["other:t"], found[1].Names);
        Assert.Equal(image.LayerTar, target.ReadAll(image.DiffId));
    }

    [Fact]
    public void ALayerThatIsNotItsDiffIdIsRefusedAndNotStored()
    {
        var image = TestImages.Busybox(source);
        var tampered = (byte[])image.LayerTar.Clone();
        tampered[^1024] ^= 0xff;
        var file = Path.Combine(scratch, "tampered.tar");
        using (var output = File.Create(file))
        using (var tar = new TarWriter(output, TarEntryFormat.Pax))
        {
            Add(tar, $"{image.Config.Hex}.json", source.ReadAll(image.Config));
            Add(tar, "abc/layer.tar", tampered);
            Add(tar, "manifest.json", Encoding.UTF8.GetBytes($"[{{\"Config\":\"{image.Config.Hex}.json\",\"RepoTags\":[\"x:y\"],\"Layers\":[\"abc/layer.tar\"]}}]"));
        }
        using var input = File.OpenRead(file);
        var error = Assert.Throws<ArchiveException>(() => DockerArchive.Read(input, target, scratch));
        Assert.Contains("does not match its digest", error.Message);
        Assert.False(target.Contains(image.DiffId));
    }

    [Theory]
    [InlineData("../../etc/passwd", "not a plain path inside the archive")]
    [InlineData("/etc/passwd", "not a plain path inside the archive")]
    [InlineData("escape/layer.tar", "outside the archive")]
    [InlineData("missing/layer.tar", "the archive lacks missing/layer.tar")]
    public void HostileNamesNeverLeaveTheArchive(string layerPath, string message)
    {
        var image = TestImages.Busybox(source);
        var file = Path.Combine(scratch, "hostile.tar");
        using (var output = File.Create(file))
        using (var tar = new TarWriter(output, TarEntryFormat.Pax))
        {
            Add(tar, $"{image.Config.Hex}.json", source.ReadAll(image.Config));
            Add(tar, "../../tmp/evil", [1, 2, 3]);
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "escape/layer.tar") { LinkName = "../../../etc/passwd" });
            Add(tar, "manifest.json", Encoding.UTF8.GetBytes($"[{{\"Config\":\"{image.Config.Hex}.json\",\"RepoTags\":[\"x:y\"],\"Layers\":[\"{layerPath}\"]}}]"));
        }
        using var input = File.OpenRead(file);
        var error = Assert.Throws<ArchiveException>(() => DockerArchive.Read(input, target, scratch));
        Assert.Contains(message, error.Message);
        Assert.False(File.Exists("/tmp/evil"));
    }

    [Fact]
    public void AnOciArchiveIsToldApart()
    {
        var image = TestImages.Busybox(source);
        using var buffer = new MemoryStream();
        OciArchive.Write(source, [new ArchiveSource(image.Manifest, ["t"])], buffer);
        buffer.Position = 0;
        Assert.Contains("it is an oci-archive", Assert.Throws<ArchiveException>(() => DockerArchive.Read(buffer, target, scratch)).Message);
        var garbage = new MemoryStream(Encoding.UTF8.GetBytes(new string('x', 2000)));
        Assert.Contains("not a valid tar", Assert.Throws<ArchiveException>(() => DockerArchive.Read(garbage, target, scratch)).Message);
    }

    static void Add(TarWriter tar, string name, byte[] content) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
}
