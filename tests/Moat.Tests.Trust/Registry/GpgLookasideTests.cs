using Moat.Tests.Images.Registry;
using Moat.Trust.Policy;

namespace Moat.Tests.Trust.Registry;

/// <summary>
/// GPG simple signing as skopeo writes it: a throwaway key in a temporary GNUPGHOME, `skopeo copy --sign-by`
/// into the registry with a file lookaside from registries.d, then Moat's signedBy check through gpgv.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class GpgLookasideTests(RegistryFixture registries) : IDisposable
{
    readonly TrustWorld world = new(registries);

    public void Dispose()
    {
        foreach (var home in homes)
            try { TrustWorld.Run(new Dictionary<string, string> { ["GNUPGHOME"] = home }, "gpgconf", "--kill", "all"); } catch (InvalidOperationException) { }
        world.Dispose();
    }

    readonly List<string> homes = [];

    /// <summary>A new key without passphrase in its own GNUPGHOME; returns the home, the fingerprint and the exported public key file.</summary>
    (string Home, string Fingerprint, string PublicKey) NewKey(string name, bool armor = false)
    {
        // A short path: gpg-agent's socket lives in the home and socket paths are limited to 108 bytes.
        var home = System.IO.Directory.CreateTempSubdirectory("mg").FullName;
        homes.Add(home);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var environment = new Dictionary<string, string> { ["GNUPGHOME"] = home };
        TrustWorld.Run(environment, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", $"{name} <{name}@moat.test>", "default", "default", "never");
        var fingerprint = TrustWorld.Run(environment, "gpg", "--with-colons", "--list-keys").Split('\n').First(l => l.StartsWith("fpr:")).Split(':')[9];
        var publicKey = Path.Combine(world.Directory, name + (armor ? ".asc" : ".gpg"));
        string[] export = armor ? ["--batch", "--yes", "--armor", "--output", publicKey, "--export", fingerprint] : ["--batch", "--yes", "--output", publicKey, "--export", fingerprint];
        TrustWorld.Run(environment, "gpg", export);
        return (home, fingerprint, publicKey);
    }

    string RegistriesD(string lookaside)
    {
        var directory = Path.Combine(world.Directory, "registries.d");
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "default.yaml"), $"default-docker:\n  lookaside: file://{lookaside}\n  lookaside-staging: file://{lookaside}\n");
        return directory;
    }

    [Fact]
    public async Task SkopeosSignaturesAreVerifiedAndWrongKeysAndTamperingRefused()
    {
        var (home, fingerprint, publicKey) = NewKey("signer", armor: true);
        var (_, _, strangerKey) = NewKey("stranger");
        var lookaside = Path.Combine(world.Directory, "sigstore");
        var registriesD = RegistriesD(lookaside);

        var image = TestImages.BuildBusyboxLayout(Path.Combine(world.Directory, "layout"));
        var name = $"{world.Server.Host}/gpg/signed:1";
        TrustWorld.Run(new Dictionary<string, string> { ["GNUPGHOME"] = home }, "skopeo", "--insecure-policy", "--registries.d", registriesD,
            "copy", "--quiet", "--dest-tls-verify=false", "--sign-by", fingerprint, image.SkopeoSource, $"docker://{name}");
        var signature = Path.Combine(lookaside, "gpg", "signed@sha256=" + image.ManifestDigest.Hex, "signature-1");
        Assert.True(File.Exists(signature), "skopeo wrote no signature where registries.d says");

        string SignedBy(string key) => world.Policy("""{"default": [{"type": "reject"}], "transports": {"docker": {""" +
            $"\"{world.Server.Host}/gpg\": [{{\"type\": \"signedBy\", \"keyType\": \"GPGKeys\", \"keyPath\": \"{key}\"}}]" + "}}}");
        Assert.Equal(1, await world.PullAsync(name, SignedBy(publicKey), registriesD));

        var wrong = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync(name, SignedBy(strangerKey), registriesD));
        Assert.Contains("requirement 1 (signedBy)", wrong.Message);
        Assert.Contains("not trusted", wrong.Message);

        // A signature for this tag does not cover another tag of the same content (matchRepoDigestOrExact).
        TrustWorld.Run(new Dictionary<string, string>(), "skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", image.SkopeoSource, $"docker://{world.Server.Host}/gpg/signed:2");
        var otherTag = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync($"{world.Server.Host}/gpg/signed:2", SignedBy(publicKey), registriesD));
        Assert.Contains($"it is for {name}", otherTag.Message);

        var bytes = File.ReadAllBytes(signature);
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(signature, bytes);
        var tampered = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync(name, SignedBy(publicKey), registriesD));
        Assert.Contains("signature 1", tampered.Message);

        File.Delete(signature);
        var missing = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync(name, SignedBy(publicKey), registriesD));
        Assert.Contains("has no GPG signatures", missing.Message);
    }
}
