using Moat.Images.Archives;
using Moat.Images.Layers;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Images.Storage;

namespace Moat.Images.Service;

public enum ArchiveFormat { DockerArchive, OciArchive }

public sealed partial class ImageService
{
    /// <summary>`moat save`: the images (names or ids) into one archive; a name given is the name written.</summary>
    public void Save(IReadOnlyList<string> images, Stream output, ArchiveFormat format)
    {
        var sources = new List<ArchiveSource>();
        foreach (var text in images)
        {
            var image = Names.Get(text);
            var names = image.Names.Where(n => n == text || NameMatches(n, text)).ToList();
            sources.Add(new ArchiveSource(image.ManifestDigest, names.Count > 0 ? names : image.Names));
        }
        var temporary = TemporaryDirectory();
        if (format == ArchiveFormat.DockerArchive)
            DockerArchive.Write(Blobs, sources, output, temporary);
        else
            OciArchive.Write(Blobs, sources, output);
    }

    /// <summary>`moat load`: every image of a docker-archive or oci-archive (told apart by their contents), stored, unpacked and named.</summary>
    public IReadOnlyList<ImageRecord> Load(Stream input)
    {
        using var hold = Blobs.HoldAgainstCollection();
        var seekable = input.CanSeek ? input : CopyToTemporary(input);
        try
        {
            var format = DetectArchive(seekable);
            var images = format == ArchiveFormat.DockerArchive
                ? DockerArchive.Read(seekable, Blobs, TemporaryDirectory())
                : OciArchive.Read(seekable, Blobs);
            if (images.Count == 0)
                throw new ArchiveException("the archive holds no image");
            return images.Select(image => Register(image.ManifestDigest, image.ManifestMediaType, image.ConfigDigest,
                image.Names.Select(n => NameForLoad(n, format)).OfType<string>().ToList())).ToList();
        }
        finally
        {
            if (!ReferenceEquals(seekable, input))
                seekable.Dispose();
        }
    }

    /// <summary>`moat import`: a root filesystem tarball becomes a one-layer image, named when a name is given.</summary>
    public ImageRecord Import(Stream tarball, string? name, ImportOptions options)
    {
        using var hold = Blobs.HoldAgainstCollection();
        var imported = RootfsImport.Import(tarball, Blobs, options with { TemporaryDirectory = options.TemporaryDirectory ?? TemporaryDirectory() });
        return Register(imported.ManifestDigest, MediaTypes.OciManifest, imported.ConfigDigest, name is null ? [] : [QualifyForStore(name)]);
    }

    /// <summary>
    /// Makes an image whose blobs are in the store usable: its layers unpacked into snapshots (bottom up,
    /// one sync for all) and its record and names in the catalogue.
    /// </summary>
    ImageRecord Register(Digest manifestDigest, string manifestMediaType, Digest configDigest, IReadOnlyList<string> names)
    {
        var manifest = System.Text.Json.JsonSerializer.Deserialize(Blobs.ReadAll(manifestDigest), ImageJsonContext.Default.ImageManifest)
            ?? throw new ArchiveException($"manifest {manifestDigest} is empty");
        var config = System.Text.Json.JsonSerializer.Deserialize(Blobs.ReadAll(configDigest), ImageJsonContext.Default.ImageConfig)
            ?? throw new ArchiveException($"config {configDigest} is empty");
        if (config.RootFs.DiffIds.Count != manifest.Layers.Count)
            throw new ArchiveException($"image {configDigest.Short} is inconsistent: {manifest.Layers.Count} layers and {config.RootFs.DiffIds.Count} diff_ids");
        var diffIds = config.RootFs.DiffIds.Select(Digest.Parse).ToList();
        var chain = Snapshots.EnsureLayers(diffIds, (index, directory, whiteouts) =>
        {
            var layer = manifest.Layers[index];
            return LayerUnpacker.Unpack(Blobs.PathOf(layer.ParsedDigest), MediaTypes.LayerCompressionOf(layer.MediaType), directory, UnpackOptions with { Whiteouts = whiteouts });
        });
        var record = ImageRecord.Create(configDigest, manifestDigest, manifestMediaType, manifest, config, names, repoDigests: []);
        Catalog.Put(record);
        return Catalog.Get(configDigest) ?? record;
    }

    /// <summary>
    /// Names in a docker archive are docker's (`busybox:latest` is docker.io/library/busybox); an OCI archive's
    /// ref.name may be only a tag, which names nothing here.
    /// </summary>
    static string? NameForLoad(string name, ArchiveFormat format)
    {
        if (!ImageReference.TryParse(name, out var reference) || reference is null || reference.Digest is not null)
            return null;
        if (format == ArchiveFormat.OciArchive && !name.Contains('/') && !name.Contains(':'))
            return reference.IsShortName ? reference.InRegistry("localhost").FullName : reference.FullName;
        return reference.IsShortName ? reference.InRegistry(ImageReference.DockerHub).FullName : reference.FullName;
    }

    /// <summary>An OCI archive has `oci-layout` among its members; a docker archive has `manifest.json` without it.</summary>
    static ArchiveFormat DetectArchive(Stream input)
    {
        var start = input.Position;
        try
        {
            var head = new byte[4];
            var read = input.ReadAtLeast(head, 4, throwOnEndOfStream: false);
            input.Position = start;
            var compression = CompressionMagic.Detect(head.AsSpan(0, read));
            if (compression != LayerCompression.None)
                throw new ArchiveException("the archive is compressed; `moat load` reads the uncompressed tar that `moat save` and `docker save` write (decompress it first)");
            using var reader = new System.Formats.Tar.TarReader(input, leaveOpen: true);
            var sawManifest = false;
            while (reader.GetNextEntry(copyData: false) is { } entry)
            {
                var member = entry.Name.TrimStart('.', '/');
                if (member == "oci-layout") return ArchiveFormat.OciArchive;
                if (member == "manifest.json") sawManifest = true;
            }
            return sawManifest ? ArchiveFormat.DockerArchive
                : throw new ArchiveException("the archive is neither a docker-archive (no manifest.json) nor an oci-archive (no oci-layout)");
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new ArchiveException("the input is not a tar archive");
        }
        finally
        {
            input.Position = start;
        }
    }

    string TemporaryDirectory()
    {
        var directory = Path.Combine(Layout.Root, "tmp");
        Directory.CreateDirectory(directory);
        return directory;
    }

    Stream CopyToTemporary(Stream input)
    {
        var path = Path.Combine(TemporaryDirectory(), "load-" + Guid.NewGuid().ToString("N"));
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        input.CopyTo(file, 1 << 20);
        file.Position = 0;
        return file;
    }
}
