using Moat.Images.References;
using Moat.Trust.Gpg;
using Moat.Trust.Policy;
using Moat.Trust.Signatures;

namespace Moat.Tests.Trust.Policy;

/// <summary>containers-policy.json(5): parsing, the most specific scope, and the signedIdentity rules of containers/image.</summary>
public sealed class PolicyParsingTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("moat-policy-").FullName;
    public void Dispose() => Directory.Delete(directory, recursive: true);

    string Key()
    {
        var path = Path.Combine(directory, "key.pub");
        File.WriteAllText(path, Moat.Trust.Cosign.CosignKeys.Generate("x").PublicPem);
        return path;
    }

    [Fact]
    public void TheMostSpecificScopeWins()
    {
        var key = Key();
        var policy = TrustPolicy.Parse($$$"""
            {
              "default": [{"type": "reject"}],
              "transports": {
                "docker": {
                  "": [{"type": "insecureAcceptAnything"}],
                  "*.example.com": [{"type": "reject"}],
                  "*.a.example.com": [{"type": "insecureAcceptAnything"}],
                  "registry.example.org": [{"type": "reject"}],
                  "registry.example.org/team": [{"type": "sigstoreSigned", "keyPath": "{{{key}}}", "signedIdentity": {"type": "matchRepository"}}],
                  "registry.example.org/team/app": [{"type": "insecureAcceptAnything"}],
                  "registry.example.org/team/app:pinned": [{"type": "reject"}]
                },
                "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}
              }
            }
            """, "policy.json");
        string ScopeOf(string reference) => policy.Select(ImageReference.Parse(reference)).Scope;
        Assert.Equal("transports.docker scope \"registry.example.org/team/app:pinned\"", ScopeOf("registry.example.org/team/app:pinned"));
        Assert.Equal("transports.docker scope \"registry.example.org/team/app\"", ScopeOf("registry.example.org/team/app:1"));
        Assert.Equal("transports.docker scope \"registry.example.org/team\"", ScopeOf("registry.example.org/team/other/deep:1"));
        Assert.Equal("transports.docker scope \"registry.example.org\"", ScopeOf("registry.example.org/x"));
        Assert.Equal("transports.docker scope \"*.a.example.com\"", ScopeOf("r.a.example.com:5000/x"));
        Assert.Equal("transports.docker scope \"*.example.com\"", ScopeOf("r.b.example.com/x"));
        Assert.Equal("transports.docker scope \"\"", ScopeOf("quay.io/x"));
        Assert.IsType<PolicyRequirement.SigstoreSigned>(policy.Select(ImageReference.Parse("registry.example.org/team/x")).Requirements[0]);
    }

    [Fact]
    public void WithoutATransportScopeTheDefaultDecides()
    {
        var policy = TrustPolicy.Parse("""{"default": [{"type": "reject"}]}""", "p.json");
        var (scope, requirements) = policy.Select(ImageReference.Parse("localhost:5000/a"));
        Assert.Equal("default", scope);
        Assert.IsType<PolicyRequirement.Reject>(Assert.Single(requirements));
    }

    [Theory]
    [InlineData("""{}""", "no \"default\"")]
    [InlineData("""{"default": []}""", "non-empty list")]
    [InlineData("""{"default": [{"type": "acceptEverything"}]}""", "unknown requirement type")]
    [InlineData("""{"default": [{"type": "reject", "keyPath": "/x"}]}""", "unknown field \"keyPath\"")]
    [InlineData("""{"default": [{"type": "signedBy", "keyPath": "/nonexistent"}]}""", "keyType")]
    [InlineData("""{"default": [{"type": "signedBy", "keyType": "X509Certificates", "keyPath": "/x"}]}""", "not supported")]
    [InlineData("""{"default": [{"type": "signedBy", "keyType": "GPGKeys"}]}""", "names no key")]
    [InlineData("""{"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/nonexistent/key.gpg"}]}""", "cannot read the key /nonexistent/key.gpg")]
    [InlineData("""{"default": [{"type": "sigstoreSigned", "fulcio": {}}]}""", "not supported by Moat")]
    [InlineData("""{"default": [{"type": "sigstoreSigned", "keyData": "AA==", "keyPath": "/x"}]}""", "several ways")]
    [InlineData("""{"default": [{"type": "sigstoreSigned", "keyData": "AA==", "signedIdentity": {"type": "exactReference", "dockerReference": "busybox"}}]}""", "with a tag or digest")]
    [InlineData("""{"default": [{"type": "sigstoreSigned", "keyData": "AA==", "signedIdentity": {"type": "matchSomething"}}]}""", "unknown signedIdentity type")]
    [InlineData("""{"default": [{"type": "reject"}], "transports": {"ftp": {}}}""", "unknown transport")]
    [InlineData("""{"default": [{"type": "reject"}], "transports": {"docker": {"not a scope!": [{"type": "reject"}]}}}""", "is not a registry")]
    [InlineData("""{"default": [{"type": "reject"}], "other": 1}""", "unknown field")]
    public void InvalidPoliciesAreRefusedWithThePlace(string json, string message)
    {
        var e = Assert.Throws<TrustConfigException>(() => TrustPolicy.Parse(json, "/etc/containers/policy.json"));
        Assert.StartsWith("/etc/containers/policy.json", e.Message);
        Assert.Contains(message, e.Message);
    }

    static DockerReference Image(string text) => DockerReference.From(ImageReference.Parse(text));

    [Theory]
    // matchRepoDigestOrExact: a tagged image needs exactly its reference; a digested one its repository; a bare repository never.
    [InlineData("matchRepoDigestOrExact", "quay.io/a/b:1", "quay.io/a/b:1", true)]
    [InlineData("matchRepoDigestOrExact", "quay.io/a/b:1", "quay.io/a/b:2", false)]
    [InlineData("matchRepoDigestOrExact", "quay.io/a/b:1", "quay.io/a/b", false)]
    [InlineData("matchRepoDigestOrExact", "quay.io/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000", "quay.io/a/b:any", true)]
    [InlineData("matchRepoDigestOrExact", "quay.io/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000", "quay.io/a/c:any", false)]
    [InlineData("matchExact", "quay.io/a/b:1", "quay.io/a/b:1", true)]
    [InlineData("matchExact", "quay.io/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000", "quay.io/a/b:1", false)]
    [InlineData("matchRepository", "quay.io/a/b:1", "quay.io/a/b", true)]
    [InlineData("matchRepository", "quay.io/a/b:1", "quay.io/a/b:7", true)]
    [InlineData("matchRepository", "quay.io/a/b:1", "quay.io/a/c", false)]
    // index.docker.io (cosign's name for Docker Hub) and short names are normalised.
    [InlineData("matchRepository", "docker.io/library/busybox:1", "index.docker.io/library/busybox", true)]
    [InlineData("matchRepository", "docker.io/library/busybox:1", "busybox", true)]
    public void SignedIdentitiesFollowContainersImage(string type, string image, string signed, bool accepted)
    {
        SignedIdentity identity = type switch
        {
            "matchExact" => new SignedIdentity.MatchExact(),
            "matchRepository" => new SignedIdentity.MatchRepository(),
            _ => new SignedIdentity.MatchRepoDigestOrExact(),
        };
        Assert.Equal(accepted, identity.Check(Image(image), signed) is null);
    }

    [Fact]
    public void ExactAndRemappedIdentities()
    {
        Assert.Null(new SignedIdentity.ExactReference("quay.io/a/b:1").Check(Image("mirror.local/x:9"), "quay.io/a/b:1"));
        Assert.NotNull(new SignedIdentity.ExactReference("quay.io/a/b:1").Check(Image("mirror.local/x:9"), "quay.io/a/b:2"));
        Assert.Null(new SignedIdentity.ExactRepository("quay.io/a/b").Check(Image("mirror.local/x:9"), "quay.io/a/b:2"));
        Assert.NotNull(new SignedIdentity.ExactRepository("quay.io/a/b").Check(Image("mirror.local/x:9"), "quay.io/a/c:2"));

        var remap = new SignedIdentity.RemapIdentity("mirror.local/upstream", "quay.io/team");
        Assert.Null(remap.Check(Image("mirror.local/upstream/app:1"), "quay.io/team/app:1"));
        Assert.NotNull(remap.Check(Image("mirror.local/upstream/app:1"), "mirror.local/upstream/app:1"));
        // A prefix matches whole components only.
        Assert.NotNull(remap.Check(Image("mirror.local/upstreamx/app:1"), "quay.io/teamx/app:1"));
        Assert.Null(remap.Check(Image("other.local/app:1"), "other.local/app:1"));
    }

    [Fact]
    public void RegistriesDirectoryFindsTheMostSpecificLookaside()
    {
        var config = RegistriesDirectory.Parse("""
            # skopeo's example layout
            default-docker:
              lookaside: file:///var/lib/containers/sigstore
            docker:
              localhost:5000:
                lookaside: http://localhost:8000/sigs
                lookaside-staging: file:///srv/sigs
              localhost:5000/team/app:
                sigstore: "https://sigs.example.com/app-signatures" # the old name of lookaside
            """, "/etc/containers/registries.d/default.yaml");
        Assert.Equal("http://localhost:8000/sigs/team/x", config.LookasideFor("localhost:5000", "team/x").ToString());
        Assert.Equal("file:///srv/sigs/team/x", config.LookasideFor("localhost:5000", "team/x", write: true).ToString());
        Assert.Equal("https://sigs.example.com/app-signatures/team/app", config.LookasideFor("localhost:5000", "team/app").ToString());
        Assert.Equal("file:///var/lib/containers/sigstore/library/busybox", config.LookasideFor("docker.io", "library/busybox").ToString());
        Assert.Throws<TrustConfigException>(() => RegistriesDirectory.Parse("docker:\n  - a\n", "x.yaml"));
    }
}
