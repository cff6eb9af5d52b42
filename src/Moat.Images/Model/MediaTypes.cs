namespace Moat.Images.Model;

/// <summary>The media types of the OCI image spec and Docker's schema 2, which registries serve side by side.</summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayerTar = "application/vnd.oci.image.layer.v1.tar";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
    public const string OciLayerNondistributableTar = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public const string OciLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";

    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string DockerLayerForeignGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    public const string DockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
    /// <summary>Schema 1 is deprecated and unsigned in practice; recognised only to refuse it by name.</summary>
    public const string DockerManifestV1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    /// <summary>The Accept header a pull sends: every manifest kind Moat can read, indexes first.</summary>
    public static readonly string[] ManifestAccept = [OciIndex, DockerManifestList, OciManifest, DockerManifest];

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;
    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>How a layer blob is compressed, from its media type.</summary>
    public static LayerCompression LayerCompressionOf(string mediaType) => mediaType switch
    {
        OciLayerTar or DockerLayerTar or OciLayerNondistributableTar => LayerCompression.None,
        OciLayerGzip or DockerLayerGzip or DockerLayerForeignGzip or OciLayerNondistributableGzip => LayerCompression.Gzip,
        OciLayerZstd => LayerCompression.Zstd,
        _ => throw new NotSupportedException($"layer media type '{mediaType}' is not one Moat can unpack (tar, tar+gzip, tar+zstd)"),
    };
}

public enum LayerCompression { None, Gzip, Zstd }
