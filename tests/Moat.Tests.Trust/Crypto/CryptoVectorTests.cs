using System.Security.Cryptography;
using System.Text;
using Moat.Trust.Crypto;

namespace Moat.Tests.Trust.Crypto;

/// <summary>scrypt, Poly1305 and secretbox against their published test vectors.</summary>
public sealed class CryptoVectorTests
{
    [Theory]
    // RFC 7914 §12, the first two vectors (the others take seconds and gigabytes of work for nothing more).
    [InlineData("", "", 16, 1, 1, "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")]
    [InlineData("password", "NaCl", 1024, 8, 16, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")]
    public void ScryptMatchesRfc7914(string password, string salt, int n, int r, int p, string expected)
    {
        var key = Scrypt.DeriveKey(Encoding.ASCII.GetBytes(password), Encoding.ASCII.GetBytes(salt), n, r, p, 64);
        Assert.Equal(expected, Convert.ToHexStringLower(key));
    }

    [Fact]
    public void ScryptRefusesParametersThatAreNotPowersOfTwo() =>
        Assert.Throws<ArgumentException>(() => Scrypt.DeriveKey([], [], 1000, 8, 1, 32));

    [Fact]
    public void Poly1305MatchesRfc8439()
    {
        // RFC 8439 §2.5.2.
        var key = Convert.FromHexString("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
        var tag = new byte[16];
        Poly1305.ComputeTag(key, "Cryptographic Forum Research Group"u8, tag);
        Assert.Equal("a8061dc1305136c6c22b8baf0c0127a9", Convert.ToHexStringLower(tag));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(300)]
    public void SecretBoxOpensWhatItSealsAndNothingChanged(int length)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var nonce = RandomNumberGenerator.GetBytes(24);
        var message = RandomNumberGenerator.GetBytes(length);
        var box = SecretBox.Seal(message, nonce, key);
        Assert.Equal(length + 16, box.Length);
        Assert.Equal(message, SecretBox.Open(box, nonce, key));

        for (var i = 0; i < box.Length; i += Math.Max(1, box.Length / 7))
        {
            var changed = (byte[])box.Clone();
            changed[i] ^= 0x01;
            Assert.Null(SecretBox.Open(changed, nonce, key));
        }
        var otherKey = (byte[])key.Clone();
        otherKey[0] ^= 1;
        Assert.Null(SecretBox.Open(box, nonce, otherKey));
    }

    [Fact]
    public void Poly1305OfAShortFinalBlockDiffersFromItsPaddedForm()
    {
        // The 0x01 pad byte is part of the message for a full block, not for a short one: the tags must differ.
        var key = RandomNumberGenerator.GetBytes(32);
        var a = new byte[16];
        var b = new byte[16];
        Poly1305.ComputeTag(key, new byte[] { 7 }, a);
        Poly1305.ComputeTag(key, new byte[] { 7, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, b);
        Assert.NotEqual(a, b);
    }
}
