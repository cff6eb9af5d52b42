using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.References;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Images.Distribution;

/// <summary>Pulls from real registries (docker-registry on 127.0.0.1) that skopeo filled.</summary>
[Collection(RegistryCollection.Name)]
public sealed class RegistryPullTests(RegistryFixture registries) : IDisposable
{
    readonly DirectoryInfo work = Directory.CreateTempSubdirectory("moat-pull-");
    public void Dispose() => work.Delete(recursive: true);

    RegistryServer Server(RegistryMode mode) => mode switch
    {
        RegistryMode.PlainHttp => registries.Plain,
        RegistryMode.TlsBasicAuth => registries.Tls,
        _ => registries.Token,
    };

    async Task<(ResolvedImage Image, TestBlobStore Store)> PullAsync(RegistryClient client, string reference, PlatformSpec? platform = null)
    {
        var resolved = await client.ResolveAsync(ImageReference.Parse(reference), platform);
        var store = new TestBlobStore();
        foreach (var descriptor in resolved.Image.Layers.Prepend(resolved.Image.Config))
            await client.FetchBlobAsync(resolved.Source, descriptor, store);
        return (resolved, store);
    }

    [Theory]
    [InlineData(RegistryMode.PlainHttp)]
    [InlineData(RegistryMode.TlsBasicAuth)]
    [InlineData(RegistryMode.TokenAuth)]
    public async Task PullsByTagAndByDigest(RegistryMode mode)
    {
        var server = Server(mode);
        var image = TestImages.BuildBusyboxLayout(Path.Combine(work.FullName, "layout"));
        var repository = $"pull/{mode.ToString().ToLowerInvariant()}";
        registries.Push(image.SkopeoSource, server, $"{repository}:v1");
        var served = registries.InspectRaw(server, $"{repository}:v1");

        using var client = new RegistryClient(registries.ClientOptions());
        var (byTag, store) = await PullAsync(client, $"{server.Host}/{repository}:v1");
        using (store)
        {
            Assert.Equal(served, System.Text.Encoding.UTF8.GetString(byTag.Manifest.Bytes));
            Assert.Equal(Digest.Sha256(byTag.Manifest.Bytes), byTag.Manifest.Digest);
            Assert.Equal(MediaTypes.OciManifest, byTag.Manifest.MediaType);
            Assert.Null(byTag.Index);
            Assert.Equal(image.ConfigDigest.ToString(), byTag.Image.Config.Digest);
            foreach (var layer in image.Layers)
                Assert.Equal(File.ReadAllBytes(Path.Combine(image.LayoutDirectory, "blobs", "sha256", layer.ParsedDigest.Hex)), store.ReadAll(layer.ParsedDigest));
            Assert.True(store.Contains(image.ConfigDigest));
            Assert.Equal(0, store.Restarts);
        }

        var (byDigest, store2) = await PullAsync(client, $"{server.Host}/{repository}@{byTag.Manifest.Digest}");
        using (store2)
        {
            Assert.Equal(byTag.Manifest.Bytes, byDigest.Manifest.Bytes);
            Assert.True(store2.Contains(image.Layers[0].ParsedDigest));
        }
    }

    [Fact]
    public async Task SecondFetchOfAStoredBlobTransfersNothing()
    {
        var image = TestImages.BuildBusyboxLayout(Path.Combine(work.FullName, "layout"));
        registries.Push(image.SkopeoSource, registries.Plain, "again/busybox:v1");
        using var client = new RegistryClient(registries.ClientOptions());
        var (resolved, store) = await PullAsync(client, $"{registries.Plain.Host}/again/busybox:v1");
        using (store)
        {
            var second = await client.FetchBlobAsync(resolved.Source, resolved.Image.Layers[0], store);
            Assert.True(second.AlreadyPresent);
            Assert.Equal(0, second.BytesTransferred);
        }
    }

    [Fact]
    public async Task WrongPasswordOnBasicAuthSaysUnauthorized()
    {
        var image = TestImages.BuildBusyboxLayout(Path.Combine(work.FullName, "layout"));
        registries.Push(image.SkopeoSource, registries.Tls, "secret/busybox:v1");
        using var client = new RegistryClient(registries.ClientOptions(password: "wrong"));
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{registries.Tls.Host}/secret/busybox:v1")));
        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains("unauthorized", error.Message);
        Assert.Contains($"moat login {registries.Tls.Host}", error.Message);
        Assert.Contains("secret/busybox:v1", error.Message);

        using var anonymous = new RegistryClient(registries.ClientOptions(username: null));
        var anonymousError = await Assert.ThrowsAsync<RegistryException>(() => anonymous.ResolveAsync(ImageReference.Parse($"{registries.Tls.Host}/secret/busybox:v1")));
        Assert.Contains("authentication required", anonymousError.Message);
    }

    [Fact]
    public async Task WrongPasswordOnTheTokenServiceSaysUnauthorized()
    {
        using var client = new RegistryClient(registries.ClientOptions(password: "wrong"));
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{registries.Token.Host}/any/thing:v1")));
        Assert.Equal(RegistryErrorKind.Unauthorized, error.Kind);
        Assert.Contains("unauthorized", error.Message);
        Assert.Contains("'moat'", error.Message);
        Assert.Contains(registries.Token.Host, error.Message);

        // Anonymous: the issuer grants nothing, so the registry refuses the token's missing access.
        using var anonymous = new RegistryClient(registries.ClientOptions(username: null));
        var anonymousError = await Assert.ThrowsAsync<RegistryException>(() => anonymous.ResolveAsync(ImageReference.Parse($"{registries.Token.Host}/any/thing:v1")));
        Assert.Equal(RegistryErrorKind.Unauthorized, anonymousError.Kind);
        Assert.Contains("authentication required", anonymousError.Message);
    }

    [Fact]
    public async Task TlsWithoutTheCaIsRefusedAndTlsVerifyFalseIsNot()
    {
        var options = registries.ClientOptions() with { CertsDirectories = [] };
        using var client = new RegistryClient(options);
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse($"{registries.Tls.Host}/none:v1")));
        Assert.Equal(RegistryErrorKind.Tls, error.Kind);
        Assert.Contains(registries.Tls.Host, error.Message);

        // Plain HTTP to a registry not marked insecure: refused with a sentence saying what to do.
        using var strict = new RegistryClient(registries.ClientOptions() with { Registries = Moat.Images.Registries.RegistriesConfig.Empty() });
        var plain = await Assert.ThrowsAsync<RegistryException>(() => strict.ResolveAsync(ImageReference.Parse($"{registries.Plain.Host}/none:v1")));
        Assert.Contains("insecure", plain.Message);
        Assert.Contains("--tls-verify=false", plain.Message);

        using var unverified = new RegistryClient(registries.ClientOptions() with { Registries = Moat.Images.Registries.RegistriesConfig.Empty(), TlsVerify = false });
        var notFound = await Assert.ThrowsAsync<RegistryException>(() => unverified.ResolveAsync(ImageReference.Parse($"{registries.Plain.Host}/none:v1")));
        Assert.Equal(RegistryErrorKind.NotFound, notFound.Kind);
        Assert.Contains($"manifest {registries.Plain.Host}/none:v1 was not found", notFound.Message);
    }

    [Fact]
    public async Task TokensAreCachedPerScopeAndRenewedWhenTheyExpire()
    {
        var image = TestImages.BuildBusyboxLayout(Path.Combine(work.FullName, "layout"));
        registries.Push(image.SkopeoSource, registries.Token, "tokens/busybox:v1");
        var reference = ImageReference.Parse($"{registries.Token.Host}/tokens/busybox:v1");

        using (var client = new RegistryClient(registries.ClientOptions()))
        {
            var before = registries.Issuer.Requests;
            await client.ResolveAsync(reference);
            await client.ResolveAsync(reference);
            await client.GetManifestAsync(reference);
            Assert.Equal(1, registries.Issuer.Requests - before);
        }

        var lifetime = registries.Issuer.Lifetime;
        registries.Issuer.Lifetime = 5; // shorter than the renewal margin: every use renews
        registries.Issuer.AnswerAccessToken = true; // and the OAuth2 field name is understood
        try
        {
            using var client = new RegistryClient(registries.ClientOptions());
            var before = registries.Issuer.Requests;
            await client.GetManifestAsync(reference);
            await client.GetManifestAsync(reference);
            Assert.Equal(2, registries.Issuer.Requests - before);
        }
        finally
        {
            registries.Issuer.Lifetime = lifetime;
            registries.Issuer.AnswerAccessToken = false;
        }
    }

    [Fact]
    public async Task AnIndexResolvesToThePlatformAsked()
    {
        var index = TestImages.BuildMultiPlatformLayout(Path.Combine(work.FullName, "layout"));
        registries.Push(index.SkopeoSource, registries.Plain, "multi/app:v1", all: true);
        using var client = new RegistryClient(registries.ClientOptions());
        var reference = ImageReference.Parse($"{registries.Plain.Host}/multi/app:v1");
        foreach (var (platform, image) in index.ByPlatform)
        {
            var resolved = await client.ResolveAsync(reference, PlatformSpec.Parse(platform));
            Assert.Equal(image.ManifestDigest, resolved.Manifest.Digest);
            Assert.Equal(index.IndexDigest, resolved.Index!.Digest);
            Assert.Equal(platform, $"{resolved.Platform!.Os}/{resolved.Platform.Architecture}");
        }
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(reference, PlatformSpec.Parse("linux/s390x")));
        Assert.Equal(RegistryErrorKind.PlatformNotFound, error.Kind);
        Assert.Contains("linux/amd64, linux/arm64/v8", error.Message);
        Assert.Contains("linux/s390x", error.Message);
    }

    [Fact]
    public async Task ShortNamesAreSearchedOverTheConfiguredRegistries()
    {
        var image = TestImages.BuildBusyboxLayout(Path.Combine(work.FullName, "layout"));
        registries.Push(image.SkopeoSource, registries.Plain, "searched:v1");
        var options = registries.ClientOptions() with
        {
            Registries = registries.RegistriesConfig($"unqualified-search-registries = [\"{registries.Token.Host}\", \"{registries.Plain.Host}\"]"),
        };
        using var client = new RegistryClient(options);
        var resolved = await client.ResolveAsync(ImageReference.Parse("searched:v1"));
        Assert.Equal($"{registries.Plain.Host}/searched:v1", resolved.Reference.FullName);

        var error = await Assert.ThrowsAsync<RegistryException>(() => client.ResolveAsync(ImageReference.Parse("nowhere:v1")));
        Assert.Contains($"not found in any search registry of {Path.Combine(registries.Directory, "registries.conf")}", error.Message);
        Assert.Contains(registries.Token.Host, error.Message);
        Assert.Contains(registries.Plain.Host, error.Message);
    }

    [Fact]
    public async Task AMirrorThatLacksTheImageFallsBackToTheRegistry()
    {
        var image = TestImages.BuildBusyboxLayout(Path.Combine(work.FullName, "layout"));
        registries.Push(image.SkopeoSource, registries.Plain, "mirrored/busybox:v1");
        var options = registries.ClientOptions() with
        {
            Registries = Moat.Images.Registries.RegistriesConfig.Parse(
                $"[[registry]]\nlocation = \"{registries.Plain.Host}\"\ninsecure = true\n[[registry.mirror]]\nlocation = \"{registries.Token.Host}/mirror\"\ninsecure = true\n", "m.conf"),
        };
        using var client = new RegistryClient(options);
        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registries.Plain.Host}/mirrored/busybox:v1"));
        Assert.False(resolved.Source.IsMirror);
        Assert.Equal(registries.Plain.Host, resolved.Source.Registry);

        // Now the mirror has it: it is used first.
        registries.Push(image.SkopeoSource, registries.Token, "mirror/mirrored/busybox:v1");
        var fromMirror = await client.ResolveAsync(ImageReference.Parse($"{registries.Plain.Host}/mirrored/busybox:v1"));
        Assert.True(fromMirror.Source.IsMirror);
        Assert.Equal("mirror/mirrored/busybox", fromMirror.Source.Repository);
    }

    [Fact]
    public async Task ABlobWhoseBytesDoNotMatchIsRefusedAndNothingIsStored()
    {
        var image = TestImages.BuildBusyboxLayout(Path.Combine(work.FullName, "layout"));
        registries.Push(image.SkopeoSource, registries.Plain, "corrupt/busybox:v1");
        var layer = image.Layers[0];
        // Corrupt the registry's own copy, same size: the registry serves it as if nothing happened.
        var data = registries.Plain.BlobDataPath(layer.ParsedDigest);
        var bytes = File.ReadAllBytes(data);
        var original = bytes.ToArray();
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(data, bytes);
        try
        {
            using var client = new RegistryClient(registries.ClientOptions());
            var resolved = await client.ResolveAsync(ImageReference.Parse($"{registries.Plain.Host}/corrupt/busybox:v1"));
            using var store = new TestBlobStore();
            var error = await Assert.ThrowsAsync<RegistryException>(() => client.FetchBlobAsync(resolved.Source, layer, store));
            Assert.Equal(RegistryErrorKind.DigestMismatch, error.Kind);
            Assert.Contains(layer.Digest, error.Message);
            Assert.Contains("refused, nothing stored", error.Message);
            Assert.False(store.Contains(layer.ParsedDigest));
            Assert.Equal(0, store.PartialBytes(layer.ParsedDigest));
            Assert.Empty(store.List());
        }
        finally { File.WriteAllBytes(data, original); }
    }

    [Fact]
    public async Task APartialBlobIsResumedWithRange()
    {
        var image = TestImages.BuildLargeBlobLayout(Path.Combine(work.FullName, "layout"), "v1", 3 << 20);
        registries.Push(image.SkopeoSource, registries.Token, "resume/partial:v1");
        using var client = new RegistryClient(registries.ClientOptions());
        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registries.Token.Host}/resume/partial:v1"));
        var layer = resolved.Image.Layers[0];
        var content = File.ReadAllBytes(registries.Token.BlobDataPath(layer.ParsedDigest));
        using var store = new TestBlobStore();
        store.SeedPartial(layer.ParsedDigest, content.AsSpan(0, 1_000_000));
        var progress = new List<long>();
        var fetch = await client.FetchBlobAsync(resolved.Source, layer, store, new SynchronousProgress(progress.Add));
        Assert.Equal(1_000_000, fetch.ResumedFrom);
        Assert.Equal(content.Length - 1_000_000, fetch.BytesTransferred);
        Assert.Equal(0, store.Restarts);
        Assert.Equal(content, store.ReadAll(layer.ParsedDigest));
        Assert.Equal(content.Length, progress[^1]);
    }

    [Fact]
    public async Task ARegistryKilledMidBlobIsResumedAfterItsRestart()
    {
        // 64 MiB: far more than the socket buffers can hold, so the kill really cuts the body.
        var image = TestImages.BuildLargeBlobLayout(Path.Combine(work.FullName, "layout"), "v1", 64 << 20);
        registries.Push(image.SkopeoSource, registries.Plain, "resume/killed:v1");
        using var client = new RegistryClient(registries.ClientOptions());
        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registries.Plain.Host}/resume/killed:v1"));
        var layer = resolved.Image.Layers[0];
        Assert.Equal(image.Layers[0].Digest, layer.Digest);
        using var store = new TestBlobStore();
        long killedAt = -1;
        store.AfterWrite = written =>
        {
            if (killedAt >= 0 || written < (2 << 20)) return;
            killedAt = written;
            // In the middle of the body: the registry dies, and comes back on the same port and storage.
            registries.Plain.Kill();
            registries.Plain.Start();
        };
        var fetch = await client.FetchBlobAsync(resolved.Source, layer, store);
        Assert.InRange(killedAt, 2 << 20, (64 << 20) - 1);
        Assert.True(fetch.Attempts >= 2, $"the download took {fetch.Attempts} attempt(s): the kill did not break it");
        Assert.Equal(0, store.Restarts); // resumed with Range, not started over
        Assert.Equal(layer.Size, store.BytesWritten);
        Assert.Equal(layer.Size, fetch.BytesTransferred);
        Assert.True(store.Contains(layer.ParsedDigest));
    }

    sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
