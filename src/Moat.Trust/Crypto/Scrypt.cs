using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Moat.Trust.Crypto;

/// <summary>
/// The scrypt key derivation function (RFC 7914): PBKDF2-HMAC-SHA256 around ROMix, whose BlockMix uses the
/// Salsa20/8 core. Cosign's key files derive their secretbox key with it (N 32768 or 65536, r 8, p 1).
/// </summary>
public static class Scrypt
{
    public static byte[] DeriveKey(ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, int n, int r, int p, int length)
    {
        if (n < 2 || (n & (n - 1)) != 0) throw new ArgumentException($"scrypt's N must be a power of two above 1, not {n}");
        if (r < 1 || p < 1 || (long)r * p >= 1 << 30) throw new ArgumentException($"scrypt's r ({r}) and p ({p}) are out of range");
        if ((long)n * r * 128 > int.MaxValue) throw new ArgumentException($"scrypt with N {n} and r {r} needs more memory than one array holds");
        var blockSize = 128 * r;
        var b = Rfc2898DeriveBytes.Pbkdf2(password, salt, 1, HashAlgorithmName.SHA256, p * blockSize);
        var x = new uint[32 * r];
        var v = new uint[32 * r * n];
        var scratch = new uint[32 * r];
        for (var i = 0; i < p; i++)
        {
            var chunk = b.AsSpan(i * blockSize, blockSize);
            for (var k = 0; k < x.Length; k++) x[k] = BinaryPrimitives.ReadUInt32LittleEndian(chunk[(4 * k)..]);
            RoMix(x, v, scratch, n, r);
            for (var k = 0; k < x.Length; k++) BinaryPrimitives.WriteUInt32LittleEndian(chunk[(4 * k)..], x[k]);
        }
        var key = Rfc2898DeriveBytes.Pbkdf2(password, b, 1, HashAlgorithmName.SHA256, length);
        CryptographicOperations.ZeroMemory(b);
        Array.Clear(v);
        Array.Clear(x);
        return key;
    }

    static void RoMix(uint[] x, uint[] v, uint[] scratch, int n, int r)
    {
        var words = 32 * r;
        for (var i = 0; i < n; i++)
        {
            x.CopyTo(v, i * words);
            BlockMix(x, scratch, r);
        }
        for (var i = 0; i < n; i++)
        {
            // Integerify: the first word of the last 64-byte block, modulo N (a power of two).
            var j = (int)(x[(2 * r - 1) * 16] & (uint)(n - 1));
            var row = v.AsSpan(j * words, words);
            for (var k = 0; k < words; k++) x[k] ^= row[k];
            BlockMix(x, scratch, r);
        }
    }

    /// <summary>BlockMix(B): X = B[2r-1]; Y[i] = Salsa20/8(X ^ B[i]); B' = Y[0], Y[2], ..., Y[1], Y[3], ...</summary>
    static void BlockMix(uint[] b, uint[] y, int r)
    {
        Span<uint> block = stackalloc uint[16];
        b.AsSpan((2 * r - 1) * 16, 16).CopyTo(block);
        for (var i = 0; i < 2 * r; i++)
        {
            for (var k = 0; k < 16; k++) block[k] ^= b[i * 16 + k];
            Salsa20.Core(block, 8);
            var target = (i % 2 == 0 ? i / 2 : r + i / 2) * 16;
            block.CopyTo(y.AsSpan(target, 16));
        }
        y.CopyTo(b, 0);
    }
}
