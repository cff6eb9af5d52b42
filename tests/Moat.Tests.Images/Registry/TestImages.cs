using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Moat.Images.Model;

namespace Moat.Tests.Images.Registry;

/// <summary>An image the tests made, in an OCI layout directory: what skopeo copies and what a pull must give back.</summary>
public sealed record TestImage(string LayoutDirectory, string Tag, Digest ManifestDigest, byte[] Manifest, string MediaType,
    Digest ConfigDigest, IReadOnlyList<Descriptor> Layers, IReadOnlyList<Digest> DiffIds)
{
    /// <summary>`oci:DIR:TAG`, as skopeo names the source.</summary>
    public string SkopeoSource => $"oci:{LayoutDirectory}:{Tag}";
    public long LayersSize => Layers.Sum(l => l.Size);
}

/// <summary>A multi-platform image: an index whose entries are the per-platform images (same layout directory).</summary>
public sealed record TestIndex(string LayoutDirectory, string Tag, Digest IndexDigest, byte[] Index, IReadOnlyDictionary<string, TestImage> ByPlatform)
{
    public string SkopeoSource => $"oci:{LayoutDirectory}:{Tag}";
}

/// <summary>
/// Builds small OCI images for registry tests, deterministically (fixed times and order, so digests are stable):
/// busybox-static as a one-layer image, a two-platform index, and an image with a large layer for resume tests.
/// </summary>
public static class TestImages
{
    static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public const string BusyboxPath = "/bin/busybox";

    /// <summary>busybox-static at /bin/busybox with /bin/sh linked to it, for linux/&lt;host arch&gt;, tagged `tag`.</summary>
    public static TestImage BuildBusyboxLayout(string directory, string tag = "latest")
    {
        if (!File.Exists(BusyboxPath)) throw new InvalidOperationException($"{BusyboxPath} is missing: install busybox-static");
        var layer = Tar(writer =>
        {
            AddDirectory(writer, "bin/");
            AddFile(writer, "bin/busybox", File.ReadAllBytes(BusyboxPath), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/sh") { LinkName = "busybox", ModificationTime = Epoch, Mode = (UnixFileMode)0x1ff });
        });
        return BuildLayout(directory, tag, "linux", HostArchitecture, null, [layer], cmd: ["/bin/sh"]);
    }

    /// <summary>An index with a linux/amd64 and a linux/arm64 image (each with a small layer saying which it is), tagged `tag`.</summary>
    public static TestIndex BuildMultiPlatformLayout(string directory, string tag = "multi")
    {
        var images = new Dictionary<string, TestImage>();
        foreach (var (arch, variant) in new[] { ("amd64", (string?)null), ("arm64", "v8") })
        {
            var layer = Tar(writer => AddFile(writer, "platform.txt", Encoding.UTF8.GetBytes($"linux/{arch}\n"), (UnixFileMode)0x1a4));
            images[$"linux/{arch}"] = BuildLayout(directory, null, "linux", arch, variant, [layer], cmd: ["/bin/true"]);
        }
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = new JsonArray(images.Select(pair => (JsonNode)new JsonObject
            {
                ["mediaType"] = MediaTypes.OciManifest,
                ["digest"] = pair.Value.ManifestDigest.ToString(),
                ["size"] = pair.Value.Manifest.Length,
                ["platform"] = PlatformJson("linux", pair.Key.Split('/')[1], pair.Key.EndsWith("arm64") ? "v8" : null),
            }).ToArray()),
        };
        var bytes = Encoding.UTF8.GetBytes(index.ToJsonString());
        var digest = WriteBlob(directory, bytes);
        AddToLayoutIndex(directory, MediaTypes.OciIndex, digest, bytes.Length, tag);
        return new TestIndex(directory, tag, digest, bytes, images);
    }

    /// <summary>
    /// One layer of <paramref name="size"/> pseudo-random bytes in a stored (uncompressed) gzip stream: large on the
    /// wire, quick to make, and kept as is by skopeo (which compresses layers it finds uncompressed). Not a tar.
    /// </summary>
    public static TestImage BuildLargeBlobLayout(string directory, string tag, int size, int seed = 15)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.NoCompression, leaveOpen: true)) gzip.Write(bytes);
        return BuildLayout(directory, tag, "linux", HostArchitecture, null, [(gz.ToArray(), Digest.Sha256(bytes))], cmd: null);
    }

    /// <summary>A valid layer (a tar holding one file of <paramref name="size"/> random bytes), gzip-stored so skopeo keeps its digest.</summary>
    public static TestImage BuildLargeLayerLayout(string directory, string tag, int size, int seed = 16)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        using var tar = new MemoryStream();
        using (var writer = new System.Formats.Tar.TarWriter(tar, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
            writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "large.bin") { DataStream = new MemoryStream(bytes), Mode = (UnixFileMode)0x1a4 });
        var uncompressed = tar.ToArray();
        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.NoCompression, leaveOpen: true)) gzip.Write(uncompressed);
        return BuildLayout(directory, tag, "linux", HostArchitecture, null, [(gz.ToArray(), Digest.Sha256(uncompressed))], cmd: null);
    }

    public static string HostArchitecture => Moat.Images.Distribution.PlatformSpec.Host.Architecture;

    /// <summary>Writes config, layers and manifest as blobs; tags the manifest in index.json unless tag is null.</summary>
    public static TestImage BuildLayout(string directory, string? tag, string os, string architecture, string? variant,
        IReadOnlyList<(byte[] Compressed, Digest DiffId)> layers, IReadOnlyList<string>? cmd, string layerMediaType = MediaTypes.OciLayerGzip)
    {
        Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var layerDescriptors = new List<Descriptor>();
        foreach (var (compressed, _) in layers)
            layerDescriptors.Add(new Descriptor { MediaType = layerMediaType, Digest = WriteBlob(directory, compressed).ToString(), Size = compressed.Length });

        var config = new JsonObject
        {
            ["created"] = Epoch.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["architecture"] = architecture,
            ["os"] = os,
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray("PATH=/bin"),
                ["Cmd"] = cmd is null ? null : new JsonArray(cmd.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()),
            },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(layers.Select(l => (JsonNode)JsonValue.Create(l.DiffId.ToString())!).ToArray()) },
        };
        if (variant is not null) config["variant"] = variant;
        var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString());
        var configDigest = WriteBlob(directory, configBytes);

        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = new JsonObject { ["mediaType"] = MediaTypes.OciConfig, ["digest"] = configDigest.ToString(), ["size"] = configBytes.Length },
            ["layers"] = new JsonArray(layerDescriptors.Select(l => (JsonNode)new JsonObject { ["mediaType"] = l.MediaType, ["digest"] = l.Digest, ["size"] = l.Size }).ToArray()),
        };
        var manifestBytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var manifestDigest = WriteBlob(directory, manifestBytes);
        if (tag is not null) AddToLayoutIndex(directory, MediaTypes.OciManifest, manifestDigest, manifestBytes.Length, tag);
        return new TestImage(directory, tag ?? "", manifestDigest, manifestBytes, MediaTypes.OciManifest, configDigest, layerDescriptors, layers.Select(l => l.DiffId).ToList());
    }

    static JsonObject PlatformJson(string os, string arch, string? variant)
    {
        var platform = new JsonObject { ["architecture"] = arch, ["os"] = os };
        if (variant is not null) platform["variant"] = variant;
        return platform;
    }

    /// <summary>A gzip-compressed tar built by <paramref name="fill"/>, and the digest of the tar (its diff_id).</summary>
    public static (byte[] Compressed, Digest DiffId) Tar(Action<TarWriter> fill)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true)) fill(writer);
        var raw = tar.ToArray();
        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(raw);
        return (gz.ToArray(), Digest.Sha256(raw));
    }

    static void AddDirectory(TarWriter writer, string name) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { ModificationTime = Epoch, Mode = (UnixFileMode)0x1ed });

    static void AddFile(TarWriter writer, string name, byte[] content, UnixFileMode mode) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { ModificationTime = Epoch, Mode = mode, DataStream = new MemoryStream(content) });

    public static Digest WriteBlob(string directory, byte[] bytes)
    {
        var digest = Digest.Sha256(bytes);
        Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        File.WriteAllBytes(Path.Combine(directory, "blobs", "sha256", digest.Hex), bytes);
        return digest;
    }

    static void AddToLayoutIndex(string directory, string mediaType, Digest digest, long size, string tag)
    {
        var path = Path.Combine(directory, "index.json");
        var index = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : new JsonObject { ["schemaVersion"] = 2, ["manifests"] = new JsonArray() };
        var manifests = index["manifests"]!.AsArray();
        foreach (var existing in manifests.Where(m => (string?)m!["annotations"]?["org.opencontainers.image.ref.name"] == tag).ToList())
            manifests.Remove(existing);
        manifests.Add((JsonNode)new JsonObject
        {
            ["mediaType"] = mediaType, ["digest"] = digest.ToString(), ["size"] = size,
            ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag },
        });
        File.WriteAllText(path, index.ToJsonString());
    }
}
