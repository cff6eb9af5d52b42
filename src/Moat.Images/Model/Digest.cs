using System.Security.Cryptography;

namespace Moat.Images.Model;

/// <summary>
/// A content digest, `algorithm:hex` (OCI image-spec descriptor.md). Only sha256 and sha512 are accepted:
/// they are the registered algorithms, and a digest we cannot compute is one we cannot verify.
/// </summary>
public readonly record struct Digest
{
    public string Algorithm { get; }
    public string Hex { get; }

    private Digest(string algorithm, string hex) { Algorithm = algorithm; Hex = hex; }

    public static Digest Parse(string text) =>
        TryParse(text, out var digest) ? digest : throw new FormatException($"'{text}' is not a digest (expected sha256:<64 hex digits> or sha512:<128 hex digits>)");

    public static bool TryParse(string? text, out Digest digest)
    {
        digest = default;
        if (text is null) return false;
        var colon = text.IndexOf(':');
        if (colon <= 0) return false;
        var algorithm = text[..colon];
        var hex = text[(colon + 1)..];
        var length = algorithm switch { "sha256" => 64, "sha512" => 128, _ => -1 };
        if (hex.Length != length) return false;
        foreach (var c in hex)
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f'))) return false;
        digest = new Digest(algorithm, hex);
        return true;
    }

    public static Digest Sha256(ReadOnlySpan<byte> content) => new("sha256", Convert.ToHexStringLower(SHA256.HashData(content)));

    public static Digest FromHash(string algorithm, byte[] hash) => new(algorithm, Convert.ToHexStringLower(hash));

    /// <summary>A hasher for this digest's algorithm, to verify content as it streams past.</summary>
    public IncrementalHash CreateHasher() => IncrementalHash.CreateHash(Algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);

    /// <summary>The short form docker and podman print as an image id (12 hex digits).</summary>
    public string Short => Hex.Length >= 12 ? Hex[..12] : Hex;

    public bool IsEmpty => Algorithm is null;

    public override string ToString() => Algorithm is null ? "" : $"{Algorithm}:{Hex}";
}
