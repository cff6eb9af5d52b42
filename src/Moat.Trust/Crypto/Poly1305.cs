using System.Buffers.Binary;

namespace Moat.Trust.Crypto;

/// <summary>
/// The Poly1305 one-time authenticator (RFC 8439 §2.5), in 26-bit limbs so every product fits a 64-bit
/// integer and no branch depends on secret data (the shape of poly1305-donna's 32-bit version).
/// </summary>
static class Poly1305
{
    public const int TagSize = 16;
    const uint Mask26 = 0x3ffffff;

    public static void ComputeTag(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> tag)
    {
        if (key.Length != 32) throw new ArgumentException("Poly1305 takes a 32-byte one-time key");
        // r, clamped as the RFC says, split into 26-bit limbs.
        uint r0 = Le(key, 0) & 0x3ffffff;
        uint r1 = (Le(key, 3) >> 2) & 0x3ffff03;
        uint r2 = (Le(key, 6) >> 4) & 0x3ffc0ff;
        uint r3 = (Le(key, 9) >> 6) & 0x3f03fff;
        uint r4 = (Le(key, 12) >> 8) & 0x00fffff;
        uint s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
        uint h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0;

        Span<byte> last = stackalloc byte[16];
        for (var offset = 0; offset < message.Length; offset += 16)
        {
            scoped ReadOnlySpan<byte> block;
            uint hibit;
            if (message.Length - offset >= 16)
            {
                block = message.Slice(offset, 16);
                hibit = 1u << 24;
            }
            else
            {
                // A short final block is padded with a 1 byte and zeros; its 2^128 bit is then that 1.
                last.Clear();
                message[offset..].CopyTo(last);
                last[message.Length - offset] = 1;
                block = last;
                hibit = 0;
            }
            h0 += Le(block, 0) & Mask26;
            h1 += (Le(block, 3) >> 2) & Mask26;
            h2 += (Le(block, 6) >> 4) & Mask26;
            h3 += (Le(block, 9) >> 6) & Mask26;
            h4 += (Le(block, 12) >> 8) | hibit;

            // h *= r (mod 2^130 - 5): limbs above 2^130 fold back multiplied by 5 (the s values).
            ulong d0 = (ulong)h0 * r0 + (ulong)h1 * s4 + (ulong)h2 * s3 + (ulong)h3 * s2 + (ulong)h4 * s1;
            ulong d1 = (ulong)h0 * r1 + (ulong)h1 * r0 + (ulong)h2 * s4 + (ulong)h3 * s3 + (ulong)h4 * s2;
            ulong d2 = (ulong)h0 * r2 + (ulong)h1 * r1 + (ulong)h2 * r0 + (ulong)h3 * s4 + (ulong)h4 * s3;
            ulong d3 = (ulong)h0 * r3 + (ulong)h1 * r2 + (ulong)h2 * r1 + (ulong)h3 * r0 + (ulong)h4 * s4;
            ulong d4 = (ulong)h0 * r4 + (ulong)h1 * r3 + (ulong)h2 * r2 + (ulong)h3 * r1 + (ulong)h4 * r0;

            ulong c = d0 >> 26; h0 = (uint)d0 & Mask26;
            d1 += c; c = d1 >> 26; h1 = (uint)d1 & Mask26;
            d2 += c; c = d2 >> 26; h2 = (uint)d2 & Mask26;
            d3 += c; c = d3 >> 26; h3 = (uint)d3 & Mask26;
            d4 += c; c = d4 >> 26; h4 = (uint)d4 & Mask26;
            h0 += (uint)c * 5; c = h0 >> 26; h0 &= Mask26;
            h1 += (uint)c;
        }

        // Full carry, then h - p chosen in constant time if h >= p.
        uint carry = h1 >> 26; h1 &= Mask26;
        h2 += carry; carry = h2 >> 26; h2 &= Mask26;
        h3 += carry; carry = h3 >> 26; h3 &= Mask26;
        h4 += carry; carry = h4 >> 26; h4 &= Mask26;
        h0 += carry * 5; carry = h0 >> 26; h0 &= Mask26;
        h1 += carry;

        uint g0 = h0 + 5; carry = g0 >> 26; g0 &= Mask26;
        uint g1 = h1 + carry; carry = g1 >> 26; g1 &= Mask26;
        uint g2 = h2 + carry; carry = g2 >> 26; g2 &= Mask26;
        uint g3 = h3 + carry; carry = g3 >> 26; g3 &= Mask26;
        uint g4 = h4 + carry - (1u << 26);

        uint select = (g4 >> 31) - 1; // all ones when g4 did not borrow (h >= p): take g
        g0 &= select; g1 &= select; g2 &= select; g3 &= select; g4 &= select;
        select = ~select;
        h0 = (h0 & select) | g0;
        h1 = (h1 & select) | g1;
        h2 = (h2 & select) | g2;
        h3 = (h3 & select) | g3;
        h4 = (h4 & select) | g4;

        // h mod 2^128, plus s (the key's second half).
        uint w0 = h0 | (h1 << 26);
        uint w1 = (h1 >> 6) | (h2 << 20);
        uint w2 = (h2 >> 12) | (h3 << 14);
        uint w3 = (h3 >> 18) | (h4 << 8);
        ulong f = (ulong)w0 + Le(key, 16); BinaryPrimitives.WriteUInt32LittleEndian(tag, (uint)f);
        f = (ulong)w1 + Le(key, 20) + (f >> 32); BinaryPrimitives.WriteUInt32LittleEndian(tag[4..], (uint)f);
        f = (ulong)w2 + Le(key, 24) + (f >> 32); BinaryPrimitives.WriteUInt32LittleEndian(tag[8..], (uint)f);
        f = (ulong)w3 + Le(key, 28) + (f >> 32); BinaryPrimitives.WriteUInt32LittleEndian(tag[12..], (uint)f);
    }

    static uint Le(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);
}
