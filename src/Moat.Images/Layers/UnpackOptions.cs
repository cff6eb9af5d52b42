namespace Moat.Images.Layers;

/// <summary>How whiteouts in a layer are handled.</summary>
public enum WhiteoutMode
{
    /// <summary>
    /// The layer is unpacked into a directory of its own, to be a lower layer of an overlay mount:
    /// `.wh.NAME` becomes a 0/0 character device NAME, `.wh..wh..opq` the xattr trusted.overlay.opaque=y.
    /// </summary>
    Overlay,
    /// <summary>The layer is unpacked on top of the layers below it (the copying fallback): whiteouts delete.</summary>
    Apply,
}

public sealed record UnpackOptions
{
    public WhiteoutMode Whiteouts { get; init; } = WhiteoutMode.Overlay;
    /// <summary>Rootless: device nodes are skipped (with a warning) and ownership is mapped, not chowned to host ids.</summary>
    public bool Rootless { get; init; }
    /// <summary>Refuse an archive that expands beyond this many bytes (a decompression bomb); 0 means no limit.</summary>
    public long MaxBytes { get; init; }
    /// <summary>Warnings (skipped entries) go here; null drops them.</summary>
    public Action<string>? Warn { get; init; }
}

/// <summary>What unpacking found: the digest of the uncompressed tar (the layer's diff_id) and the bytes it holds.</summary>
public sealed record UnpackResult(Model.Digest DiffId, long UncompressedSize, long Entries);
