using Moat.Images.Distribution;
using Moat.Images.Model;

namespace Moat.Tests.Images.Distribution;

public class PlatformTests
{
    static Descriptor Entry(string os, string arch, string? variant = null, string digestChar = "a") => new()
    {
        MediaType = MediaTypes.OciManifest, Digest = "sha256:" + string.Concat(Enumerable.Repeat(digestChar, 64)), Size = 100,
        Platform = new Platform { Os = os, Architecture = arch, Variant = variant },
    };

    static ImageIndex Index(params Descriptor[] entries) => new() { SchemaVersion = 2, Manifests = [.. entries] };

    [Fact]
    public void ChoosesOsAndArchitecture()
    {
        var index = Index(Entry("linux", "arm64", "v8", "1"), Entry("linux", "amd64", null, "2"), Entry("windows", "amd64", null, "3"));
        Assert.EndsWith("2", PlatformSpec.Parse("linux/amd64").Choose(index)!.Digest);
        Assert.EndsWith("1", PlatformSpec.Parse("linux/arm64").Choose(index)!.Digest);
        Assert.EndsWith("1", PlatformSpec.Parse("linux/aarch64/v8").Choose(index)!.Digest);
        Assert.EndsWith("3", PlatformSpec.Parse("windows/x86_64").Choose(index)!.Digest);
        Assert.Null(PlatformSpec.Parse("linux/s390x").Choose(index));
    }

    [Fact]
    public void VariantsMatchExactlyWhenAskedAndPreferTheDefaultOtherwise()
    {
        var index = Index(Entry("linux", "arm", "v6", "1"), Entry("linux", "arm", "v7", "2"), Entry("linux", "arm64", null, "3"));
        Assert.EndsWith("2", PlatformSpec.Parse("linux/arm/v7").Choose(index)!.Digest);
        Assert.EndsWith("1", PlatformSpec.Parse("linux/arm/v6").Choose(index)!.Digest);
        Assert.Null(PlatformSpec.Parse("linux/arm/v5").Choose(index));
        Assert.EndsWith("1", PlatformSpec.Parse("linux/arm").Choose(index)!.Digest);
        Assert.EndsWith("3", PlatformSpec.Parse("linux/arm64/v8").Choose(index)!.Digest);
    }

    [Fact]
    public void AttestationEntriesAreNotPlatforms()
    {
        var attestation = Entry("unknown", "unknown", null, "9");
        var index = Index(attestation, Entry("linux", "amd64", null, "2"));
        Assert.EndsWith("2", PlatformSpec.Parse("linux/amd64").Choose(index)!.Digest);
        Assert.Equal("linux/amd64", PlatformSpec.Describe(index));
    }

    [Fact]
    public void HostIsLinuxAndThisArchitecture()
    {
        Assert.Equal("linux", PlatformSpec.Host.Os);
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64 ? "amd64" : PlatformSpec.Host.Architecture, PlatformSpec.Host.Architecture);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("linux/")]
    [InlineData("linux/amd64/v1/x")]
    [InlineData("/amd64")]
    public void BadPlatformStringsAreRefused(string text) =>
        Assert.Contains("os/arch", Assert.Throws<FormatException>(() => PlatformSpec.Parse(text)).Message);
}
