using System.Security.Cryptography;
using System.Text;
using Moat.Trust.Cosign;

namespace Moat.Tests.Trust.Crypto;

/// <summary>cosign's encrypted key files: the test vectors of cosign's own pkg/cosign/keys_test.go (password "hello"), and keys Moat writes.</summary>
public sealed class CosignKeyFileTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("moat-keys-").FullName;
    public void Dispose() => Directory.Delete(directory, recursive: true);

    // cosign's pemsigstorekey (scrypt N=32768): a PKCS #8 key.
    const string SigstoreKey = """
        -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
        eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
        OCwicCI6MX0sInNhbHQiOiI3T3VGd2VsbWZZNXVId2NoaURSc210anNwZ2ZlZjFG
        Mk5lOGFDTjVLYVpZPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
        Iiwibm9uY2UiOiJQNHk4OGhCb3ZTa09MbXN0bFVBaGJwdDJ0K2xTNUxQSCJ9LCJj
        aXBoZXJ0ZXh0IjoiMnB1QzdyZldJOWh3bnJlQ2s4aUZDRlVwQlRrSzRJNlIvbFBF
        cnBDekpXUGpJWXl4eGVIL1A2VW52cFJHdVhla1NNb3JMdGhLamdoQ1JlNy82NDVH
        QWtoVm1LRC92eEF0S2EvbE1abENSQ3FlekJGUFd1dzNpeFRtZ2xhb2J1ZFVSbUVs
        bmNGOGlZbzBTMVl6Y1ZOMVFwY2J2c0dNcUlYRzVlbmdteGp5dCtBcXlyZTF0Q0Y0
        V01tU1BlaEljNlBqd2h1Q2xHaVpJUWRvTGc9PSJ9
        -----END ENCRYPTED SIGSTORE PRIVATE KEY-----
        """;

    // cosign's pemcosigneckey (scrypt N=65536, the old label): an SEC 1 EC key inside, which cosign's loader refuses.
    const string CosignEcKey = """
        -----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----
        eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6
        OCwicCI6MX0sInNhbHQiOiJHK3F5WTYrNzhNS0JzMXNGTGs1ajYwcS9kS3Z1czBW
        VkhlSHZybC9POTF3PSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
        Iiwibm9uY2UiOiJRc2JGdG13WDRDK2ttV3ZCcVRaMEFGOUFYdk1jRmg1SCJ9LCJj
        aXBoZXJ0ZXh0IjoiREM5T28zeldiYVQzSXYwdFVnWEdycjUxYW1samwwNlQ5MTNP
        VkxPbWpuMWhnK2o2WXRUbWg3SGhZSlY1N2J5eGE0Q281bE9YYmRqbTJ3aklubEd1
        Um5aZCt5OExnekpSNzFSeEhKVzgrWmRlcFJmYWJMTjdHbDgrSFZEcERVQ3NxQnRh
        VngyblpGbFEwWUl1anZwbFphblNGaUVvdERLVGkxZ3VhUXIwUHNzYU01NXZxbTRY
        WS9rPSJ9
        -----END ENCRYPTED COSIGN PRIVATE KEY-----
        """;

    [Fact]
    public void CosignsSigstoreKeyOpensWithItsPasswordToAPkcs8Key()
    {
        var pkcs8 = EncryptedKeyFile.Decrypt(SigstoreKey, "hello", "pemsigstorekey");
        // A PKCS #8 PrivateKeyInfo: SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING }.
        var reader = new System.Formats.Asn1.AsnReader(pkcs8, System.Formats.Asn1.AsnEncodingRules.DER);
        var info = reader.ReadSequence();
        Assert.Equal(0, (int)info.ReadInteger());
        Assert.False(reader.HasData);
    }

    [Fact]
    public void CosignsOlderEcKeyOpensToAnSec1KeyThatIsNotPkcs8()
    {
        var der = EncryptedKeyFile.Decrypt(CosignEcKey, "hello", "pemcosigneckey");
        using var key = ECDsa.Create();
        key.ImportECPrivateKey(der, out var read);
        Assert.Equal(der.Length, read);
        Assert.Throws<CryptographicException>(() => ECDsa.Create().ImportPkcs8PrivateKey(der, out _));
    }

    [Fact]
    public void AWrongPasswordIsRefusedByName()
    {
        var e = Assert.Throws<KeyFileException>(() => EncryptedKeyFile.Decrypt(SigstoreKey, "wrong", "cosign.key"));
        Assert.Contains("password does not open cosign.key", e.Message);
    }

    [Fact]
    public void GeneratedKeysAreWhatCosignWrites()
    {
        var pair = CosignKeys.Generate("secret");
        Assert.StartsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n", pair.PrivatePem);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----\n", pair.PublicPem);
        var body = pair.PrivatePem.Split('\n').Where(l => !l.StartsWith("-----") && l.Length > 0).ToList();
        Assert.All(body, l => Assert.True(l.Length <= 64));
        var json = Encoding.UTF8.GetString(Convert.FromBase64String(string.Concat(body)));
        Assert.StartsWith("{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\"", json);
        Assert.Contains("\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"", json);

        var privatePath = Path.Combine(directory, "cosign.key");
        var publicPath = Path.Combine(directory, "cosign.pub");
        KeyFileWriter.Write(privatePath, pair.PrivatePem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        KeyFileWriter.Write(publicPath, pair.PublicPem, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(privatePath));
        using var signer = CosignKeys.LoadPrivateKey(privatePath, "secret");
        using var verifier = CosignKeys.LoadPublicKey(publicPath);
        Assert.Equal(256, signer.KeySize);
        var signature = CosignKeys.Sign(signer, "payload"u8);
        Assert.True(CosignKeys.Verify(verifier, "payload"u8, signature));
        Assert.False(CosignKeys.Verify(verifier, "payloaD"u8, signature));
    }
}
