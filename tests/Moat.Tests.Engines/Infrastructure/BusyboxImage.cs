using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;

namespace Moat.Tests.Engines.Infrastructure;

/// <summary>
/// The image every engine test runs, built here with no network: a busybox-static root filesystem as
/// one layer tarball (for podman import, docker import) and as an OCI image archive (for ctr import).
/// </summary>
public sealed class BusyboxImage
{
    public const string Reference = "localhost/moat-busybox:test";

    public BusyboxImage(string directory)
    {
        Directory.CreateDirectory(directory);
        var rootfs = Path.Combine(directory, "rootfs");
        BuildRootfs(rootfs);
        LayerTar = Path.Combine(directory, "layer.tar");
        Host.Run("/bin/tar", ["-C", rootfs, "--owner=0", "--group=0", "--numeric-owner", "-cf", LayerTar, "."]).Ok();
        OciArchive = Path.Combine(directory, "image-oci.tar");
        WriteOciArchive(LayerTar, OciArchive);
    }

    public string LayerTar { get; }
    public string OciArchive { get; }

    static void BuildRootfs(string rootfs)
    {
        var busybox = new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists)
                      ?? throw new InvalidOperationException("busybox-static is missing: run scripts/install-deps.sh");
        foreach (var dir in new[] { "bin", "etc", "proc", "sys", "dev", "tmp", "root", "run", "var/tmp" })
            Directory.CreateDirectory(Path.Combine(rootfs, dir));
        File.SetUnixFileMode(Path.Combine(rootfs, "tmp"), (UnixFileMode)Convert.ToInt32("1777", 8));
        File.Copy(busybox, Path.Combine(rootfs, "bin", "busybox"));
        foreach (var applet in Host.Run(busybox, ["--list"]).Ok().Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (applet != "busybox")
                File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
        File.WriteAllText(Path.Combine(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
        // Something an image has under /tmp: --read-only's tmpfs must start with it (tmpcopyup).
        File.WriteAllText(Path.Combine(rootfs, "tmp", "from-image"), "seed\n");
    }

    /// <summary>An OCI image layout (index, manifest, config, one uncompressed layer) in a tar, as `ctr images import` reads it.</summary>
    static void WriteOciArchive(string layerTar, string archive)
    {
        var layer = File.ReadAllBytes(layerTar);
        var layerDigest = Digest(layer);
        var config = Encoding.UTF8.GetBytes(
            "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"],\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]}," +
            $"\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{layerDigest}\"]}}}}");
        var configDigest = Digest(config);
        var manifest = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," +
            $"\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}}," +
            $"\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{layerDigest}\",\"size\":{layer.Length}}}]}}");
        var manifestDigest = Digest(manifest);
        var index = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," +
            $"\"digest\":\"{manifestDigest}\",\"size\":{manifest.Length}," +
            $"\"annotations\":{{\"org.opencontainers.image.ref.name\":\"{Reference}\",\"io.containerd.image.name\":\"{Reference}\"}}}}]}}");
        using var stream = File.Create(archive);
        using var tar = new TarWriter(stream, TarEntryFormat.Pax);
        void Add(string name, byte[] data)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };
            tar.WriteEntry(entry);
        }
        Add("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray());
        Add("index.json", index);
        foreach (var blob in new[] { layer, config, manifest })
            Add($"blobs/sha256/{Digest(blob)["sha256:".Length..]}", blob);
    }

    static string Digest(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
