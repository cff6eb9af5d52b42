using Moat.Scan.Versions;

namespace Moat.Tests.Scan.Versions;

/// <summary>rpmvercmp: the cases of rpm's own test suite (tests/rpmvercmp.at), then epoch and release handling.</summary>
public sealed class RpmVersionTests
{
    [Theory]
    [InlineData("1.0", "1.0", 0)]
    [InlineData("1.0", "2.0", -1)]
    [InlineData("2.0.1", "2.0", 1)]
    [InlineData("2.0.1a", "2.0.1", 1)]
    [InlineData("5.5p1", "5.5p2", -1)]
    [InlineData("5.5p1", "5.5p10", -1)]
    [InlineData("10xyz", "10.1xyz", -1)]
    [InlineData("xyz10", "xyz10.1", -1)]
    [InlineData("xyz.4", "8", -1)]
    [InlineData("xyz.4", "2", -1)]
    [InlineData("5.5p2", "5.6p1", -1)]
    [InlineData("5.6p1", "6.5p1", -1)]
    [InlineData("6.0.rc1", "6.0", 1)]
    [InlineData("10b2", "10a1", 1)]
    [InlineData("1.0a", "1.0aa", -1)]
    [InlineData("10.0001", "10.1", 0)]
    [InlineData("10.0001", "10.0039", -1)]
    [InlineData("4.999.9", "5.0", -1)]
    [InlineData("20101121", "20101122", -1)]
    [InlineData("2_0", "2.0", 0)]
    [InlineData("a+", "a_", 0)]
    [InlineData("+a", "_a", 0)]
    [InlineData("_+", "+_", 0)]
    [InlineData("+", "_", 0)]
    [InlineData("1.0~rc1", "1.0", -1)]
    [InlineData("1.0~rc1", "1.0~rc2", -1)]
    [InlineData("1.0~rc1~git123", "1.0~rc1", -1)]
    [InlineData("1.0^", "1.0", 1)]
    [InlineData("1.0^git1", "1.0^git2", -1)]
    [InlineData("1.0^git1", "1.01", -1)]
    [InlineData("1.0^20160101", "1.0.1", -1)]
    [InlineData("1.0~rc1^git1", "1.0~rc1", 1)]
    [InlineData("1.0^git1~pre", "1.0^git1", -1)]
    public void VerCmpMatchesRpmsTestSuite(string a, string b, int expected)
    {
        Assert.Equal(expected, RpmVersion.VerCmp(a, b));
        Assert.Equal(-expected, RpmVersion.VerCmp(b, a));
    }

    [Theory]
    [InlineData("1:1.0-1", "2.0-1", 1)]
    [InlineData("0:1.0-1", "1.0-1", 0)]
    [InlineData("3.0.7-27.el9", "3.0.7-28.el9", -1)]
    [InlineData("1:3.0.7-27.el9", "1:3.0.7-27.el9_5", -1)]
    [InlineData("2.34-60.el9", "2.34", 0)]   // no release in a bound: any release
    public void EpochVersionRelease(string a, string b, int expected) => Assert.Equal(expected, RpmVersion.Compare(a, b));
}
