using Moat.Runtime;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class ContainerIdTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("abc123")]
    [InlineData("My_Container-1.2+3")]
    [InlineData("...")]
    [InlineData(".hidden")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void AcceptsValidIds(string id)
    {
        ContainerId.Validate(id);
    }

    [Fact]
    public void AcceptsTheLongestId()
    {
        ContainerId.Validate(new string('a', ContainerId.MaxLength));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void RejectsEmptyIds(string? id)
    {
        Assert.Contains("empty", Assert.Throws<RuntimeException>(() => ContainerId.Validate(id)).Message);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("/")]
    [InlineData("../x")]
    [InlineData("a b")]
    [InlineData("a:b")]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    [InlineData("é")]
    [InlineData("--bogus")]
    [InlineData("-x")]
    public void RejectsInvalidIds(string id)
    {
        Assert.Throws<RuntimeException>(() => ContainerId.Validate(id));
    }

    [Fact]
    public void AnIdThatLooksLikeAFlagIsRefusedWithTheReason()
    {
        // `moat create --bogus` once created a container named "--bogus".
        var e = Assert.Throws<RuntimeException>(() => ContainerId.Validate("--bogus"));

        Assert.Equal("invalid container id \"--bogus\": it must not start with '-'", e.Message);
    }

    [Fact]
    public void RejectsTooLongIds()
    {
        var e = Assert.Throws<RuntimeException>(() => ContainerId.Validate(new string('a', ContainerId.MaxLength + 1)));

        Assert.Contains("longer", e.Message);
    }
}
