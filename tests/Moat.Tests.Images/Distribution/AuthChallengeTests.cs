using Moat.Images.Distribution;

namespace Moat.Tests.Images.Distribution;

public class AuthChallengeTests
{
    [Fact]
    public void BearerWithQuotedParameters()
    {
        var c = Assert.Single(AuthChallenge.Parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\""));
        Assert.True(c.IsBearer);
        Assert.Equal("https://auth.docker.io/token", c["realm"]);
        Assert.Equal("registry.docker.io", c["service"]);
        Assert.Equal("repository:library/busybox:pull", c["scope"]);
    }

    [Fact]
    public void BasicRealm()
    {
        var c = Assert.Single(AuthChallenge.Parse("Basic realm=\"Registry Realm\""));
        Assert.True(c.IsBasic);
        Assert.Equal("Registry Realm", c["realm"]);
    }

    [Fact]
    public void EscapesCommasAndSpacesInsideQuotes()
    {
        var c = Assert.Single(AuthChallenge.Parse("Bearer realm=\"https://x/t?a=1,b=2\" , error=\"insufficient_scope\", scope=\"repository:a:pull,push repository:b:pull\", note=\"say \\\"hi\\\"\""));
        Assert.Equal("https://x/t?a=1,b=2", c["realm"]);
        Assert.Equal("insufficient_scope", c["error"]);
        Assert.Equal("repository:a:pull,push repository:b:pull", c["scope"]);
        Assert.Equal("say \"hi\"", c["note"]);
    }

    [Fact]
    public void SchemeAndParameterNamesAreCaseInsensitive()
    {
        var c = Assert.Single(AuthChallenge.Parse("bearer REALM=https://x/token, Service=reg"));
        Assert.True(c.IsBearer);
        Assert.Equal("https://x/token", c["realm"]);
        Assert.Equal("reg", c["service"]);
    }

    [Fact]
    public void SeveralChallengesInOneValueAndInSeveralHeaders()
    {
        var challenges = AuthChallenge.Parse(["Basic realm=\"a\", Bearer realm=\"https://t/\",service=\"s\"", "Negotiate abc123==, Digest realm=\"d\", nonce=\"n\""]);
        Assert.Equal(["Basic", "Bearer", "Negotiate", "Digest"], challenges.Select(c => c.Scheme));
        Assert.Equal("a", challenges[0]["realm"]);
        Assert.Equal("s", challenges[1]["service"]);
        Assert.Empty(challenges[2].Parameters);
        Assert.Equal("n", challenges[3]["nonce"]);
    }

    [Fact]
    public void MalformedHeadersYieldWhatCouldBeRead()
    {
        var c = Assert.Single(AuthChallenge.Parse("Bearer realm=\"https://x/token"));
        Assert.Equal("https://x/token", c["realm"]);
        Assert.Empty(AuthChallenge.Parse(""));
        Assert.Empty(AuthChallenge.Parse(" , "));
        var bare = Assert.Single(AuthChallenge.Parse("Bearer"));
        Assert.Empty(bare.Parameters);
    }
}
