using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Moat.Images.Model;

namespace Moat.Tests.Images.Archives;

/// <summary>Images the archive tests make: a one-layer busybox-static image, and the tools that check them.</summary>
internal static class TestImages
{
    public sealed record Built(Digest Manifest, Digest Config, Digest Layer, Digest DiffId, byte[] LayerTar);

    /// <summary>bin/busybox and bin/sh -> busybox, as a tar.</summary>
    public static byte[] BusyboxTar()
    {
        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "bin/") { Mode = (UnixFileMode)0x1ed, ModificationTime = DateTimeOffset.UnixEpoch });
            using var busybox = File.OpenRead("/bin/busybox");
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = (UnixFileMode)0x1ed, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = busybox });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/sh") { LinkName = "busybox", ModificationTime = DateTimeOffset.UnixEpoch });
        }
        return buffer.ToArray();
    }

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(content);
        return buffer.ToArray();
    }

    /// <summary>The busybox image in the store (gzip layer, OCI manifest), and index.json naming it <paramref name="tag"/>, so the store is an `oci:` layout skopeo reads.</summary>
    public static Built Busybox(TestBlobStore store, string tag = "v1")
    {
        var tar = BusyboxTar();
        var layer = store.Put(Gzip(tar));
        var diffId = Digest.Sha256(tar);
        var config = new ImageConfig
        {
            Created = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
            Architecture = "amd64",
            Os = "linux",
            Config = new ContainerConfig { Cmd = ["/bin/sh"], Env = ["PATH=/bin"] },
            RootFs = new RootFs { DiffIds = [diffId.ToString()] },
        };
        var configBytes = JsonSerializer.SerializeToUtf8Bytes(config, ImageJsonContext.Default.ImageConfig);
        var configDigest = store.Put(configBytes);
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciManifest,
            Config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = configDigest.ToString(), Size = configBytes.Length },
            Layers = [new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = layer.ToString(), Size = store.SizeOf(layer)!.Value }],
        };
        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest);
        var manifestDigest = store.Put(manifestBytes);
        WriteIndex(store, manifestDigest, manifestBytes.Length, tag);
        return new Built(manifestDigest, configDigest, layer, diffId, tar);
    }

    public static void WriteIndex(TestBlobStore store, Digest manifest, long size, string tag)
    {
        var index = new ImageIndex
        {
            SchemaVersion = 2,
            Manifests = [new Descriptor
            {
                MediaType = MediaTypes.OciManifest, Digest = manifest.ToString(), Size = size,
                Annotations = new() { ["org.opencontainers.image.ref.name"] = tag },
            }],
        };
        File.WriteAllBytes(Path.Combine(store.Root, "index.json"), JsonSerializer.SerializeToUtf8Bytes(index, ImageJsonContext.Default.ImageIndex));
    }

    /// <summary>Runs a tool (skopeo, umoci) and returns its standard output; a failure shows its standard error.</summary>
    public static string Run(string tool, params string[] arguments) => Registry.Tool.Run(tool, arguments);

    public static JsonElement RunJson(string tool, params string[] arguments) => JsonDocument.Parse(Run(tool, arguments)).RootElement;
}
