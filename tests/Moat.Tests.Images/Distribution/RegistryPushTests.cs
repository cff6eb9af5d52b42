using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.Registries;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Images.Distribution;

/// <summary>Pushes with Moat's client to real registries, read back by skopeo.</summary>
[Collection(RegistryCollection.Name)]
public sealed class RegistryPushTests(RegistryFixture registries) : IDisposable
{
    readonly DirectoryInfo work = Directory.CreateTempSubdirectory("moat-push-");
    public void Dispose() => work.Delete(recursive: true);

    RegistryServer Server(RegistryMode mode) => mode switch
    {
        RegistryMode.PlainHttp => registries.Plain,
        RegistryMode.TlsBasicAuth => registries.Tls,
        _ => registries.Token,
    };

    static Stream OpenBlob(TestImage image, Digest digest) =>
        File.OpenRead(Path.Combine(image.LayoutDirectory, "blobs", digest.Algorithm, digest.Hex));

    async Task PushAsync(RegistryClient client, RemoteRepository target, TestImage image, string tag)
    {
        var config = new Descriptor { MediaType = MediaTypes.OciConfig, Digest = image.ConfigDigest.ToString(), Size = new FileInfo(Path.Combine(image.LayoutDirectory, "blobs", "sha256", image.ConfigDigest.Hex)).Length };
        foreach (var blob in image.Layers.Append(config))
            if (!await client.BlobExistsAsync(target, blob.ParsedDigest, forPush: true))
                await client.UploadBlobAsync(target, blob, () => OpenBlob(image, blob.ParsedDigest));
        var digest = await client.PutManifestAsync(target, tag, image.Manifest, image.MediaType);
        Assert.Equal(image.ManifestDigest, digest);
    }

    [Theory]
    [InlineData(RegistryMode.PlainHttp)]
    [InlineData(RegistryMode.TlsBasicAuth)]
    [InlineData(RegistryMode.TokenAuth)]
    public async Task PushedImagesReadBackWithSkopeo(RegistryMode mode)
    {
        var server = Server(mode);
        var image = TestImages.BuildBusyboxLayout(Path.Combine(work.FullName, "layout"));
        using var client = new RegistryClient(registries.ClientOptions());
        var repository = $"pushed/{mode.ToString().ToLowerInvariant()}";
        var target = client.Options.Registries.PushTarget(Moat.Images.References.ImageReference.Parse($"{server.Host}/{repository}:v1"));
        var progress = new List<long>();
        await PushAsync(client, target, image, "v1");

        Assert.Equal(System.Text.Encoding.UTF8.GetString(image.Manifest), registries.InspectRaw(server, $"{repository}:v1"));
        Assert.True(await client.BlobExistsAsync(target, image.Layers[0].ParsedDigest));
        Assert.Contains("v1", await client.ListTagsAsync(target));

        // By digest too, and the tag list shows both tags after a second one.
        await client.PutManifestAsync(target, image.ManifestDigest.ToString(), image.Manifest, image.MediaType);
        await client.PutManifestAsync(target, "v2", image.Manifest, image.MediaType);
        Assert.Equal(["v1", "v2"], (await client.ListTagsAsync(target)).Order());
        Assert.Equal(System.Text.Encoding.UTF8.GetString(image.Manifest), registries.InspectRaw(server, $"{repository}@{image.ManifestDigest}"));
    }

    [Theory]
    [InlineData(RegistryMode.PlainHttp)]
    [InlineData(RegistryMode.TokenAuth)]
    public async Task BlobsAreMountedFromAnotherRepository(RegistryMode mode)
    {
        var server = Server(mode);
        var image = TestImages.BuildBusyboxLayout(Path.Combine(work.FullName, "layout"));
        using var client = new RegistryClient(registries.ClientOptions());
        var source = new RemoteRepository(server.Host, "mount/source", Insecure: true);
        var target = new RemoteRepository(server.Host, "mount/target", Insecure: true);
        await PushAsync(client, source, image, "v1");

        var layer = image.Layers[0].ParsedDigest;
        Assert.False(await client.BlobExistsAsync(target, layer));
        Assert.True(await client.MountBlobAsync(target, layer, source.Repository));
        Assert.True(await client.BlobExistsAsync(target, layer));
        if (mode == RegistryMode.TokenAuth)
            Assert.Contains(registries.Issuer.Scopes, s => s == "repository:mount/source:pull");
        // A blob the source does not have is not mounted: the caller uploads it.
        Assert.False(await client.MountBlobAsync(target, Digest.Sha256("absent"u8), source.Repository));
    }

    [Fact]
    public async Task AnUploadWithWrongBytesIsRefusedByTheRegistry()
    {
        using var client = new RegistryClient(registries.ClientOptions());
        var target = new RemoteRepository(registries.Plain.Host, "push/wrong", Insecure: true);
        var claimed = new Descriptor { MediaType = MediaTypes.OciLayerTar, Digest = Digest.Sha256("right"u8).ToString(), Size = 5 };
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.UploadBlobAsync(target, claimed, () => new MemoryStream("wrong"u8.ToArray())));
        Assert.Contains(registries.Plain.Host, error.Message);
        Assert.Contains("DIGEST_INVALID", error.Message);
        Assert.False(await client.BlobExistsAsync(target, claimed.ParsedDigest));
    }

    [Fact]
    public async Task PushWithoutCredentialsToTheTokenRegistryIsRefused()
    {
        using var client = new RegistryClient(registries.ClientOptions(username: null));
        var target = new RemoteRepository(registries.Token.Host, "push/anonymous", Insecure: true);
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.UploadBlobAsync(target,
            new Descriptor { MediaType = MediaTypes.OciLayerTar, Digest = Digest.Sha256("x"u8).ToString(), Size = 1 }, () => new MemoryStream("x"u8.ToArray())));
        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains("authentication required", error.Message);
    }
}
