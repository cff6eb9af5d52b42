using Moat.Tests.Images.Registry;
using Moat.Trust.Policy;

namespace Moat.Tests.Trust.Registry;

/// <summary>`moat pull` under a policy: each requirement accepted or refused, the refusal naming file, scope and requirement, and nothing stored.</summary>
[Collection(RegistryCollection.Name)]
public sealed class PullPolicyTests(RegistryFixture registries) : IDisposable
{
    readonly TrustWorld world = new(registries);
    public void Dispose() => world.Dispose();

    string Scoped(string scope, string requirement) =>
        world.Policy("""{"default": [{"type": "reject"}], "transports": {"docker": {""" + $"\"{scope}\": [{requirement}]" + "}}}");

    [Fact]
    public async Task InsecureAcceptAnythingPullsAndRejectRefusesByName()
    {
        var (name, _) = world.Push("policy/any:1");
        Assert.Equal(1, await world.PullAsync(name, Scoped(world.Server.Host, """{"type": "insecureAcceptAnything"}""")));

        var other = world.Push("policy/rejected:1").Name;
        var policy = Scoped($"{world.Server.Host}/policy/rejected", """{"type": "reject"}""");
        var e = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync(other, policy));
        Assert.Contains(policy, e.Message);
        Assert.Contains($"transports.docker scope \"{world.Server.Host}/policy/rejected\"", e.Message);
        Assert.Contains("requirement 1 (reject)", e.Message);
        Assert.Equal(1, world.StoredImages());
    }

    [Fact]
    public async Task TheDefaultRefusesWhatNoScopeNames()
    {
        var (name, _) = world.Push("policy/default:1");
        var e = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync(name, Scoped("elsewhere.example.com", """{"type": "insecureAcceptAnything"}""")));
        Assert.Equal("default", e.Scope);
        Assert.Equal(0, world.StoredImages());
    }

    [Fact]
    public async Task SigstoreSignedAcceptsASignedImageAndRefusesUnsignedWrongKeyAndBareIdentity()
    {
        var (signed, _) = world.Push("policy/cosign:1");
        var (unsigned, _) = world.Push("policy/unsigned:1");
        var (privateKey, publicKey) = world.CosignKeyPair("policy");
        var (_, strangerKey) = world.CosignKeyPair("stranger");
        await world.SignAsync(signed, privateKey);

        var byRepository = $$$"""{"type": "sigstoreSigned", "keyPath": "{{{publicKey}}}", "signedIdentity": {"type": "matchRepository"}}""";
        Assert.Equal(1, await world.PullAsync(signed, Scoped(world.Server.Host, byRepository)));

        var missing = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync(unsigned, Scoped(world.Server.Host, byRepository)));
        Assert.Contains("requirement 1 (sigstoreSigned): the image has no signatures", missing.Message);

        var stranger = $$$"""{"type": "sigstoreSigned", "keyPath": "{{{strangerKey}}}", "signedIdentity": {"type": "matchRepository"}}""";
        var wrong = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync(signed, Scoped(world.Server.Host, stranger)));
        Assert.Contains("not made by the given key", wrong.Message);

        // cosign names a repository without a tag: matchRepoDigestOrExact (the default) does not accept that, as in containers/image.
        var byDefault = $$$"""{"type": "sigstoreSigned", "keyData": "{{{Convert.ToBase64String(File.ReadAllBytes(publicKey))}}}"}""";
        var bare = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync(signed, Scoped(world.Server.Host, byDefault)));
        Assert.Contains("use matchRepository", bare.Message);

        // Every requirement of the scope must hold.
        var both = Scoped(world.Server.Host, byRepository + "," + stranger);
        var second = await Assert.ThrowsAsync<TrustPolicyException>(() => world.PullAsync(signed, both));
        Assert.Contains("requirement 2 (sigstoreSigned)", second.Message);
    }

    [Fact]
    public async Task TheEngineCheckTakesAStoredNameAndDigest()
    {
        var (name, digest) = world.Push("policy/engine:1");
        var (privateKey, publicKey) = world.CosignKeyPair("engine");
        var policy = Scoped(world.Server.Host, $$$"""{"type": "sigstoreSigned", "keyPath": "{{{publicKey}}}", "signedIdentity": {"type": "matchRepository"}}""");
        var trust = ImageTrust.Load(world.Client, policy, Path.Combine(world.Directory, "none"));
        await Assert.ThrowsAsync<TrustPolicyException>(() => trust.CheckAsync(name, digest));
        await world.SignAsync(name, privateKey);
        await trust.CheckAsync(name, digest);
    }
}
