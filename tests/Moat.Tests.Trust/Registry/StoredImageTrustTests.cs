using Moat.Images.Model;
using Moat.Images.Registries;
using Moat.Tests.Images.Registry;
using Moat.Trust.Gpg;
using Moat.Trust.Policy;

namespace Moat.Tests.Trust.Registry;

/// <summary>
/// The trust check `moat run` makes on an image already in the store (StoredImageTrust): by the digest the
/// container record keeps, and for a multi-platform image stored by its platform manifest, by the index the
/// registry says holds it.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class StoredImageTrustTests(RegistryFixture registries) : IDisposable
{
    readonly TrustWorld world = new(registries);

    public void Dispose() => world.Dispose();

    ImageTrust Trust(string? policyJson) => policyJson is null
        ? new ImageTrust(null, world.Client, world.Client.Options.Registries, RegistriesDirectory.Load(Path.Combine(world.Directory, "no-registries.d")))
        : ImageTrust.Load(world.Client, world.Policy(policyJson), Path.Combine(world.Directory, "no-registries.d"));

    string Signed(string publicKey) =>
        """{"default": [{"type": "sigstoreSigned", "keyPath": """ + "\"" + publicKey + "\"" + """, "signedIdentity": {"type": "matchRepository"}}]}""";

    [Fact]
    public async Task EachOutcomeOfTheStoredImageCheck()
    {
        var (name, digest) = world.Push("stored/app:1");
        var (privateKey, publicKey) = world.CosignKeyPair("stored");
        var other = world.CosignKeyPair("other");

        var none = await StoredImageTrust.CheckAsync(Trust(null), world.Client, name, digest.ToString(), digest, null, pulledNow: false);
        Assert.Equal(TrustOutcome.NoPolicy, none.Outcome);
        var open = await StoredImageTrust.CheckAsync(Trust("""{"default": [{"type": "insecureAcceptAnything"}]}"""), world.Client, name, digest.ToString(), digest, null, false);
        Assert.Equal(TrustOutcome.AcceptedUnsigned, open.Outcome);
        Assert.Equal("default", open.Scope);

        var unsigned = await Assert.ThrowsAsync<TrustPolicyException>(() =>
            StoredImageTrust.CheckAsync(Trust(Signed(publicKey)), world.Client, name, digest.ToString(), digest, null, false));
        Assert.Equal("sigstoreSigned", unsigned.Requirement);

        await world.SignAsync(name, privateKey);
        var verified = await StoredImageTrust.CheckAsync(Trust(Signed(publicKey)), world.Client, name, digest.ToString(), digest, null, false);
        Assert.Equal(TrustOutcome.Verified, verified.Outcome);
        Assert.Equal(digest.ToString(), verified.Digest);
        await Assert.ThrowsAsync<TrustPolicyException>(() =>
            StoredImageTrust.CheckAsync(Trust(Signed(other.Public)), world.Client, name, digest.ToString(), digest, null, false));
    }

    [Fact]
    public async Task AMultiPlatformImageStoredByItsPlatformManifestIsCheckedByItsIndex()
    {
        var index = TestImages.BuildMultiPlatformLayout(Path.Combine(world.Directory, "layout"));
        registries.Push(index.SkopeoSource, world.Server, "stored/multi:1", all: true);
        var name = $"{world.Server.Host}/stored/multi:1";
        var (platform, image) = index.ByPlatform.First();
        var (privateKey, publicKey) = world.CosignKeyPair("multi");
        await world.SignAsync(name, privateKey); // signs what the tag names: the index
        var policy = Signed(publicKey);

        // The record kept the platform manifest (an image pulled before, by `moat pull`): the registry is asked.
        var verified = await StoredImageTrust.CheckAsync(Trust(policy), world.Client, name, image.ManifestDigest.ToString(), image.ManifestDigest, platform, pulledNow: false);
        Assert.Equal(TrustOutcome.Verified, verified.Outcome);
        Assert.Equal(index.IndexDigest.ToString(), verified.Digest);
        // Kept by the index it was pulled by: checked directly.
        var direct = await StoredImageTrust.CheckAsync(Trust(policy), world.Client, name, index.IndexDigest.ToString(), image.ManifestDigest, platform, pulledNow: true);
        Assert.Equal(index.IndexDigest.ToString(), direct.Digest);
        // A stored manifest the index does not hold (the tag moved to other content) keeps its refusal.
        var stranger = Digest.Parse("sha256:" + new string('a', 64));
        await Assert.ThrowsAsync<TrustPolicyException>(() =>
            StoredImageTrust.CheckAsync(Trust(policy), world.Client, name, stranger.ToString(), stranger, platform, pulledNow: false));
    }
}
