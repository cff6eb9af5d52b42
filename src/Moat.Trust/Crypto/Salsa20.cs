using System.Buffers.Binary;
using System.Numerics;

namespace Moat.Trust.Crypto;

/// <summary>
/// The Salsa20 family (Bernstein, "The Salsa20 family of stream ciphers"): the core (20 rounds for XSalsa20,
/// 8 for scrypt's BlockMix), HSalsa20 (the key derivation XSalsa20 uses for its 192-bit nonce), and the
/// XSalsa20 key stream. .NET has none of these; NaCl's secretbox and scrypt need them.
/// </summary>
static class Salsa20
{
    // "expand 32-byte k", the constant of 256-bit keys.
    const uint Sigma0 = 0x61707865, Sigma1 = 0x3320646e, Sigma2 = 0x79622d32, Sigma3 = 0x6b206574;

    /// <summary>The double rounds over 16 words, in place (rounds/2 column+row rounds), without the final addition.</summary>
    internal static void Rounds(Span<uint> x, int rounds)
    {
        for (var i = 0; i < rounds; i += 2)
        {
            // column round
            x[4] ^= BitOperations.RotateLeft(x[0] + x[12], 7);
            x[8] ^= BitOperations.RotateLeft(x[4] + x[0], 9);
            x[12] ^= BitOperations.RotateLeft(x[8] + x[4], 13);
            x[0] ^= BitOperations.RotateLeft(x[12] + x[8], 18);
            x[9] ^= BitOperations.RotateLeft(x[5] + x[1], 7);
            x[13] ^= BitOperations.RotateLeft(x[9] + x[5], 9);
            x[1] ^= BitOperations.RotateLeft(x[13] + x[9], 13);
            x[5] ^= BitOperations.RotateLeft(x[1] + x[13], 18);
            x[14] ^= BitOperations.RotateLeft(x[10] + x[6], 7);
            x[2] ^= BitOperations.RotateLeft(x[14] + x[10], 9);
            x[6] ^= BitOperations.RotateLeft(x[2] + x[14], 13);
            x[10] ^= BitOperations.RotateLeft(x[6] + x[2], 18);
            x[3] ^= BitOperations.RotateLeft(x[15] + x[11], 7);
            x[7] ^= BitOperations.RotateLeft(x[3] + x[15], 9);
            x[11] ^= BitOperations.RotateLeft(x[7] + x[3], 13);
            x[15] ^= BitOperations.RotateLeft(x[11] + x[7], 18);
            // row round
            x[1] ^= BitOperations.RotateLeft(x[0] + x[3], 7);
            x[2] ^= BitOperations.RotateLeft(x[1] + x[0], 9);
            x[3] ^= BitOperations.RotateLeft(x[2] + x[1], 13);
            x[0] ^= BitOperations.RotateLeft(x[3] + x[2], 18);
            x[6] ^= BitOperations.RotateLeft(x[5] + x[4], 7);
            x[7] ^= BitOperations.RotateLeft(x[6] + x[5], 9);
            x[4] ^= BitOperations.RotateLeft(x[7] + x[6], 13);
            x[5] ^= BitOperations.RotateLeft(x[4] + x[7], 18);
            x[11] ^= BitOperations.RotateLeft(x[10] + x[9], 7);
            x[8] ^= BitOperations.RotateLeft(x[11] + x[10], 9);
            x[9] ^= BitOperations.RotateLeft(x[8] + x[11], 13);
            x[10] ^= BitOperations.RotateLeft(x[9] + x[8], 18);
            x[12] ^= BitOperations.RotateLeft(x[15] + x[14], 7);
            x[13] ^= BitOperations.RotateLeft(x[12] + x[15], 9);
            x[14] ^= BitOperations.RotateLeft(x[13] + x[12], 13);
            x[15] ^= BitOperations.RotateLeft(x[14] + x[13], 18);
        }
    }

    /// <summary>The Salsa20 core: <paramref name="block"/> becomes rounds(block) + block (the hash function of the paper).</summary>
    internal static void Core(Span<uint> block, int rounds)
    {
        Span<uint> x = stackalloc uint[16];
        block.CopyTo(x);
        Rounds(x, rounds);
        for (var i = 0; i < 16; i++) block[i] += x[i];
    }

    /// <summary>HSalsa20(key, 16-byte input): the 32-byte subkey XSalsa20 encrypts with (words 0,5,10,15,6,7,8,9 after the rounds).</summary>
    internal static void HSalsa20(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> subkey)
    {
        Span<uint> x = stackalloc uint[16];
        Setup(x, key, input);
        Rounds(x, 20);
        ReadOnlySpan<int> picks = [0, 5, 10, 15, 6, 7, 8, 9];
        for (var i = 0; i < 8; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(subkey[(4 * i)..], x[picks[i]]);
    }

    /// <summary>The state of a 256-bit key: constants on the diagonal, the key around them, the 16 input bytes (nonce and counter) in the middle.</summary>
    static void Setup(Span<uint> x, ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        x[0] = Sigma0; x[5] = Sigma1; x[10] = Sigma2; x[15] = Sigma3;
        for (var i = 0; i < 4; i++)
        {
            x[1 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
            x[11 + i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(16 + 4 * i)..]);
            x[6 + i] = BinaryPrimitives.ReadUInt32LittleEndian(input[(4 * i)..]);
        }
    }

    /// <summary>XORs <paramref name="data"/> with the XSalsa20 key stream of (key, 24-byte nonce), starting at byte 0 of block 0.</summary>
    internal static void XSalsa20Xor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, Span<byte> data)
    {
        if (key.Length != 32 || nonce.Length != 24) throw new ArgumentException("XSalsa20 takes a 32-byte key and a 24-byte nonce");
        Span<byte> subkey = stackalloc byte[32];
        HSalsa20(key, nonce[..16], subkey);
        Span<byte> input = stackalloc byte[16];
        nonce[16..24].CopyTo(input);
        Span<uint> state = stackalloc uint[16];
        Span<byte> stream = stackalloc byte[64];
        ulong counter = 0;
        for (var offset = 0; offset < data.Length; offset += 64, counter++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(input[8..], counter);
            Setup(state, subkey, input);
            Core(state, 20);
            for (var i = 0; i < 16; i++) BinaryPrimitives.WriteUInt32LittleEndian(stream[(4 * i)..], state[i]);
            var n = Math.Min(64, data.Length - offset);
            for (var i = 0; i < n; i++) data[offset + i] ^= stream[i];
        }
        subkey.Clear();
        stream.Clear();
    }
}
