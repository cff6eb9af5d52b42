using System.Text;
using System.Text.Json;
using Moat.Images.Model;
using Moat.Tests.Images.Registry;
using Moat.Trust.Cosign;

namespace Moat.Tests.Trust.Registry;

/// <summary>cosign-format signatures pushed to a real registry and read back: the layout cosign uses, appends, tampering, wrong keys, missing signatures.</summary>
[Collection(RegistryCollection.Name)]
public sealed class CosignRegistryTests(RegistryFixture registries) : IDisposable
{
    readonly TrustWorld world = new(registries);
    public void Dispose() => world.Dispose();

    [Fact]
    public async Task ASignatureIsStoredAsCosignStoresItAndVerifies()
    {
        var (name, digest) = world.Push("trust/signed:1");
        var (privateKey, publicKey) = world.CosignKeyPair("a");
        await world.SignAsync(name, privateKey);

        // The signature image: tag sha256-HEX.sig in the same repository, one simple-signing layer with the annotation.
        var repository = new Moat.Images.Registries.RemoteRepository(world.Server.Host, "trust/signed", Insecure: true);
        var manifest = (await world.Client.GetManifestAsync(repository, $"sha256-{digest.Hex}.sig")).ParseManifest();
        var layer = Assert.Single(manifest.Layers);
        Assert.Equal("application/vnd.dev.cosign.simplesigning.v1+json", layer.MediaType);
        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
        var signature = layer.Annotations!["dev.cosignproject.cosign/signature"];
        var stored = (await new CosignSignatureStore(world.Client).ReadAsync(repository, digest)).Single();
        Assert.Equal(signature, stored.Base64Signature);
        Assert.Equal($$"""{"critical":{"identity":{"docker-reference":"{{world.Server.Host}}/trust/signed"},"image":{"docker-manifest-digest":"{{digest}}"},"type":"cosign container image signature"},"optional":null}""",
            Encoding.UTF8.GetString(stored.Payload));

        using var key = CosignKeys.LoadPublicKey(publicKey);
        var subject = await world.Cosign.ResolveAsync(name);
        Assert.Equal(digest, subject.Digest);
        var result = await world.Cosign.VerifyAsync(subject, [key], null);
        Assert.Single(result.Verified);

        // A second key's signature is appended beside the first.
        var (otherPrivate, otherPublic) = world.CosignKeyPair("b");
        await world.SignAsync(name, otherPrivate);
        Assert.Equal(2, (await world.Client.GetManifestAsync(repository, $"sha256-{digest.Hex}.sig")).ParseManifest().Layers.Count);
        using var other = CosignKeys.LoadPublicKey(otherPublic);
        Assert.Single((await world.Cosign.VerifyAsync(subject, [other], null)).Verified);
        Assert.Equal(2, (await world.Cosign.VerifyAsync(subject, [key, other], null)).Verified.Count);
    }

    [Fact]
    public async Task AnAppendOfTheSameSignatureIsNotRepeated()
    {
        var (name, digest) = world.Push("trust/same:1");
        var repository = new Moat.Images.Registries.RemoteRepository(world.Server.Host, "trust/same", Insecure: true);
        var store = new CosignSignatureStore(world.Client);
        var payload = Moat.Trust.Signatures.SimpleSigningPayload.CosignBytes($"{world.Server.Host}/trust/same", digest);
        Assert.True(await store.AppendAsync(repository, digest, payload, "c2ln"));
        Assert.False(await store.AppendAsync(repository, digest, payload, "c2ln"));
        Assert.Single(await store.ReadAsync(repository, digest));
    }

    [Fact]
    public async Task WrongKeysMissingSignaturesAndRetaggedImagesAreRefused()
    {
        var (name, digest) = world.Push("trust/refused:1");
        var (privateKey, publicKey) = world.CosignKeyPair("signer");
        var (_, strangerPublic) = world.CosignKeyPair("stranger");
        using var signer = CosignKeys.LoadPublicKey(publicKey);
        using var stranger = CosignKeys.LoadPublicKey(strangerPublic);

        var unsigned = await world.Cosign.VerifyAsync(await world.Cosign.ResolveAsync(name), [signer], null);
        Assert.Equal(0, unsigned.Found);
        Assert.Equal("the image has no signatures", unsigned.Explain());

        await world.SignAsync(name, privateKey);
        var wrongKey = await world.Cosign.VerifyAsync(await world.Cosign.ResolveAsync(name), [stranger], null);
        Assert.Empty(wrongKey.Verified);
        Assert.Contains("not made by the given key", wrongKey.Explain());

        // The tag now names other content: the old signature does not cover it.
        world.Push("trust/refused:1", other: true);
        var moved = await world.Cosign.ResolveAsync(name);
        Assert.NotEqual(digest, moved.Digest);
        var retagged = await world.Cosign.VerifyAsync(moved, [signer], null);
        Assert.Empty(retagged.Verified);
    }

    [Fact]
    public async Task ATamperedSignatureManifestIsRefused()
    {
        var (name, digest) = world.Push("trust/tampered:1");
        var (privateKey, publicKey) = world.CosignKeyPair("k");
        await world.SignAsync(name, privateKey);
        var repository = new Moat.Images.Registries.RemoteRepository(world.Server.Host, "trust/tampered", Insecure: true);
        var tag = $"sha256-{digest.Hex}.sig";
        var manifest = (await world.Client.GetManifestAsync(repository, tag)).ParseManifest();

        // Someone swaps the payload for one naming another digest but keeps the signature annotation.
        var forged = Moat.Trust.Signatures.SimpleSigningPayload.CosignBytes($"{world.Server.Host}/trust/tampered", Digest.Sha256("other"u8));
        var layer = manifest.Layers[0];
        var forgedLayer = new Descriptor { MediaType = layer.MediaType, Digest = Digest.Sha256(forged).ToString(), Size = forged.Length, Annotations = layer.Annotations };
        await world.Client.UploadBlobAsync(repository, forgedLayer, () => new MemoryStream(forged));
        manifest.Layers = [forgedLayer];
        await world.Client.PutManifestAsync(repository, tag, JsonSerializer.SerializeToUtf8Bytes(manifest, ImageJsonContext.Default.ImageManifest), MediaTypes.OciManifest);

        using var key = CosignKeys.LoadPublicKey(publicKey);
        var result = await world.Cosign.VerifyAsync(await world.Cosign.ResolveAsync(name), [key], null);
        Assert.Empty(result.Verified);
        Assert.Equal(1, result.Found);
        Assert.Contains("not made by the given key", result.Explain());
    }
}
