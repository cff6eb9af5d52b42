using System.Text;
using Moat.Images.Model;

namespace Moat.Tests.Images;

public class DigestTests
{
    [Fact]
    public void Sha256OfContentMatchesTheKnownValue() =>
        Assert.Equal("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Digest.Sha256([]).ToString());

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256")]
    [InlineData("")]
    public void MalformedDigestsAreRefused(string text) => Assert.False(Digest.TryParse(text, out _));

    [Fact]
    public void ParseKeepsAlgorithmAndHex()
    {
        var digest = Digest.Parse("sha256:" + new string('a', 64));
        Assert.Equal("sha256", digest.Algorithm);
        Assert.Equal("aaaaaaaaaaaa", digest.Short);
        var hasher = digest.CreateHasher();
        hasher.AppendData(Encoding.UTF8.GetBytes("x"));
        Assert.Equal(32, hasher.GetHashAndReset().Length);
    }
}
