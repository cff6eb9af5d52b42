using Moat.Scan.Versions;

namespace Moat.Tests.Scan.Versions;

/// <summary>apk's order: a selection of apk-tools' own test list (test/version.data), written as a table here.</summary>
public sealed class ApkVersionTests
{
    [Theory]
    [InlineData("2.34", ">", "0.1.0_alpha")]
    [InlineData("23_foo", ">", "4_beta")]
    [InlineData("1.0", "<", "1.0bc")]
    [InlineData("0.1.0_alpha", "=", "0.1.0_alpha")]
    [InlineData("0.1.0_alpha2", ">", "0.1.0_alpha")]
    [InlineData("1.0.4-r3", "<", "1.0.4-r4")]
    [InlineData("1.1", ">", "1.1_alpha1")]
    [InlineData("1.2", "<", "1.3_alpha")]
    [InlineData("1.3_alpha2", "<", "1.3_alpha3")]
    [InlineData("0.7.0", "<", "0.8_beta1")]
    [InlineData("2.3.0b-r1", "<", "2.3.0b-r2")]
    [InlineData("0.12.3", ">", "0.12")]
    [InlineData("0.13_beta5", ">", "0.9.12")]
    [InlineData("1.2.12.1", "<", "1.2.13")]
    [InlineData("3.1_p16", "<", "3.1_p17")]
    [InlineData("1.06-r6", "<", "006")]
    [InlineData("006", ">", "1.0.0")]
    [InlineData("9.3.4-r2", ">", "9.3.4")]
    [InlineData("20050718-r1", "<", "20050718-r2")]
    [InlineData("2.01.01_alpha10", ">", "0.94")]
    [InlineData("1.0", ">", "0.99.3.20040818")]
    [InlineData("4.2.52_p2-r1", "<", "4.2.52_p4-r2")]
    [InlineData("2.18.3-r10", ">", "1.05-r18")]
    [InlineData("20060720", ">", "3.0.20060720")]
    [InlineData("2.5.1-r8", "<", "2.5.1a-r1")]
    [InlineData("0.9.16-r1", "<", "3.9_pre20060124")]
    [InlineData("3.0.0-r2", "<", "021109-r3")]
    [InlineData("6b-r7", ">", "1.12-r7")]
    [InlineData("0.10.0-r1", ">", "0.10.0")]
    [InlineData("0.10.0", "<", "0.10.1_rc1")]
    [InlineData("1.1a", "<", "1.3a")]
    [InlineData("0.15.1b-r2", ">", "0.15.1b")]
    [InlineData("22.7-r1", "<", "22.7.3-r1")]
    [InlineData("2.1_pre20", "<", "2.1_pre26")]
    [InlineData("2.10.1", ">", "02.08.01b")]
    [InlineData("3.81", ">", "1.6d")]
    [InlineData("1.2.07.8", "<", "1.2.12.04")]
    [InlineData("1.07-r1", "<", "1.07.5")]
    [InlineData("0.1_pre20060810", "<", "0.1_pre20060817")]
    [InlineData("0.59s-r11", "<", "0.65")]
    [InlineData("0.20070118", "<", "0.20070207_rc1")]
    [InlineData("3.7_p1", ">", "1.3")]
    [InlineData("4.5_p1-r1", ">", "4.5_p1")]
    [InlineData("0.9.8c-r1", "<", "0.9.8d")]
    [InlineData("2.2.3-r2", "<", "013")]
    [InlineData("1.7", "<", "1.7b")]
    [InlineData("1.8.5", "<", "1.8.5_p2")]
    [InlineData("2.9.11_pre20051101-r3", ">", "2.9.11_pre20051101")]
    [InlineData("1.6.8_p12-r1", ">", "1.6.8_p9-r2")]
    [InlineData("0.9.28.1", "<", "087-r1")]
    [InlineData("104-r11", ">", "104-r9")]
    [InlineData("1.2.5_rc2", ">", "0.1")]
    [InlineData("20040406-r1", ">", "2.12r-r4")]
    [InlineData("7.0.17", "<", "7.0.174")]
    [InlineData("0.3.4_pre20061029", "<", "0.4.0")]
    [InlineData("1.3-r0", "<", "1.3.1-r0")]
    [InlineData("1.3_pre1-r1", "<", "1.3.2")]
    [InlineData("1.0_p10-r0", ">", "1.0_p9-r0")]
    [InlineData("0.1.0_alpha_pre2", "<", "0.1.0_alpha")]
    [InlineData("1.0.0_pre20191002222144-r0", "<", "1.0.0_pre20210530193627-r0")]
    public void OrdersAsApkToolsTestList(string a, string op, string b)
    {
        var expected = op switch { "<" => -1, ">" => 1, _ => 0 };
        Assert.Equal(expected, ApkVersion.Compare(a, b));
        Assert.Equal(-expected, ApkVersion.Compare(b, a));
    }

    [Theory]
    [InlineData("1.2.3-r0", true)]
    [InlineData("1.0_rc1", true)]
    [InlineData("1.0-x", false)]
    [InlineData("1.0_foo", false)]
    public void Validity(string version, bool valid) => Assert.Equal(valid, ApkVersion.IsValid(version));
}
