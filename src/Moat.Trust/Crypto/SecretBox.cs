using System.Security.Cryptography;

namespace Moat.Trust.Crypto;

/// <summary>
/// NaCl's crypto_secretbox (XSalsa20 + Poly1305) in the layout Go's golang.org/x/crypto/nacl/secretbox writes:
/// the 16-byte tag, then the ciphertext. The first 32 bytes of the key stream are the Poly1305 key; the message
/// is encrypted with the stream from byte 32 on.
/// </summary>
public static class SecretBox
{
    public const int KeySize = 32;
    public const int NonceSize = 24;
    public const int Overhead = Poly1305.TagSize;

    public static byte[] Seal(ReadOnlySpan<byte> message, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        var stream = new byte[32 + message.Length];
        message.CopyTo(stream.AsSpan(32));
        Salsa20.XSalsa20Xor(key, nonce, stream);
        var box = new byte[Overhead + message.Length];
        stream.AsSpan(32).CopyTo(box.AsSpan(Overhead));
        Poly1305.ComputeTag(stream.AsSpan(0, 32), box.AsSpan(Overhead), box.AsSpan(0, Overhead));
        CryptographicOperations.ZeroMemory(stream);
        return box;
    }

    /// <summary>The message, or null when the box was not sealed with this key and nonce (or was changed).</summary>
    public static byte[]? Open(ReadOnlySpan<byte> box, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        if (box.Length < Overhead) return null;
        var stream = new byte[32 + box.Length - Overhead];
        box[Overhead..].CopyTo(stream.AsSpan(32));
        // The one-time key comes from block 0 whatever the message is: XOR of zeros gives it.
        Span<byte> polyKey = stackalloc byte[32];
        polyKey.Clear();
        var first = new byte[32];
        Salsa20.XSalsa20Xor(key, nonce, first);
        first.CopyTo(polyKey);
        Span<byte> tag = stackalloc byte[Overhead];
        Poly1305.ComputeTag(polyKey, box[Overhead..], tag);
        CryptographicOperations.ZeroMemory(first);
        if (!CryptographicOperations.FixedTimeEquals(tag, box[..Overhead])) return null;
        Salsa20.XSalsa20Xor(key, nonce, stream);
        var message = stream.AsSpan(32).ToArray();
        CryptographicOperations.ZeroMemory(stream);
        polyKey.Clear();
        return message;
    }
}
