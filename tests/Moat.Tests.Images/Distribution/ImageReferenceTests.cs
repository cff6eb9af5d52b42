using Moat.Images.References;

namespace Moat.Tests.Images.Distribution;

public class ImageReferenceTests
{
    const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    // input, registry, repository, tag, digest?, short
    [InlineData("busybox", "docker.io", "library/busybox", "latest", null, true)]
    [InlineData("busybox:1.36", "docker.io", "library/busybox", "1.36", null, true)]
    [InlineData("library/busybox", "docker.io", "library/busybox", "latest", null, true)]
    [InlineData("user/app", "docker.io", "user/app", "latest", null, true)]
    [InlineData("docker.io/busybox", "docker.io", "library/busybox", "latest", null, false)]
    [InlineData("index.docker.io/library/busybox:musl", "docker.io", "library/busybox", "musl", null, false)]
    [InlineData("quay.io/podman/stable:v4", "quay.io", "podman/stable", "v4", null, false)]
    [InlineData("localhost/app", "localhost", "app", "latest", null, false)]
    [InlineData("localhost:5000/x", "localhost:5000", "x", "latest", null, false)]
    [InlineData("127.0.0.1:5000/a/b/c:t", "127.0.0.1:5000", "a/b/c", "t", null, false)]
    [InlineData("[::1]:5000/app", "[::1]:5000", "app", "latest", null, false)]
    [InlineData("Registry.Example/app", "Registry.Example", "app", "latest", null, false)]
    [InlineData("example.com/a_b/c__d/e-f/g--h.i:Tag_1.x-y", "example.com", "a_b/c__d/e-f/g--h.i", "Tag_1.x-y", null, false)]
    [InlineData("busybox@sha256:" + Hex, "docker.io", "library/busybox", null, "sha256:" + Hex, true)]
    [InlineData("quay.io/a/b:v1@sha256:" + Hex, "quay.io", "a/b", "v1", "sha256:" + Hex, false)]
    public void ValidReferencesAreNormalised(string text, string registry, string repository, string? tag, string? digest, bool isShort)
    {
        var reference = ImageReference.Parse(text);
        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest?.ToString());
        Assert.Equal(isShort, reference.IsShortName);
    }

    [Fact]
    public void FullNameIsWhatPodmanPrints()
    {
        Assert.Equal("docker.io/library/busybox:latest", ImageReference.Parse("busybox").FullName);
        Assert.Equal("localhost:5000/x:latest", ImageReference.Parse("localhost:5000/x").FullName);
        Assert.Equal($"quay.io/a/b:v1@sha256:{Hex}", ImageReference.Parse($"quay.io/a/b:v1@sha256:{Hex}").FullName);
        Assert.Equal($"docker.io/library/busybox@sha256:{Hex}", ImageReference.Parse($"busybox@sha256:{Hex}").FullName);
        Assert.Equal($"sha256:{Hex}", ImageReference.Parse($"a.io/b:t@sha256:{Hex}").TagOrDigest);
        Assert.Equal("t", ImageReference.Parse("a.io/b:t").TagOrDigest);
    }

    [Fact]
    public void ShortNamesExpandIntoOtherRegistries()
    {
        var shortName = ImageReference.Parse("busybox:1");
        Assert.Equal("quay.io/busybox:1", shortName.InRegistry("quay.io").FullName);
        Assert.Equal("docker.io/library/busybox:1", shortName.InRegistry("docker.io").FullName);
        Assert.False(shortName.InRegistry("quay.io").IsShortName);
        Assert.Equal("docker.io/team/app:latest", ImageReference.Parse("team/app").InRegistry("docker.io").FullName);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Busybox", "lower-case")]
    [InlineData("docker.io/Library/busybox", "lower-case")]
    [InlineData("busybox:", "not a valid tag")]
    [InlineData("busybox:-x", "not a valid tag")]
    [InlineData("busybox:.x", "not a valid tag")]
    [InlineData("busybox:a/b", "not a valid registry host")]
    [InlineData("busybox@sha256:abc", "not a digest")]
    [InlineData("busybox@md5:d41d8cd98f00b204e9800998ecf8427e", "not a digest")]
    [InlineData("busybox@", "not a digest")]
    [InlineData("a//b", "empty component")]
    [InlineData("a/b/", "empty component")]
    [InlineData("example.com/", "no repository")]
    [InlineData(":tag", "no repository")]
    [InlineData("-a/b", "not a valid repository path component")]
    [InlineData("a_/b", "not a valid repository path component")]
    [InlineData("a___b", "not a valid repository path component")]
    [InlineData("a..b", "not a valid repository path component")]
    [InlineData("exa_mple.com/a", "not a valid registry host")]
    [InlineData("example.com:99999/a", "not a valid registry host")]
    [InlineData("example.com:/a", "not a valid registry host")]
    [InlineData("-example.com/a", "not a valid registry host")]
    [InlineData("docker://busybox", "scheme")]
    [InlineData("busy box", "white space")]
    [InlineData("a$b", "not a valid repository path component")]
    public void InvalidReferencesSayWhy(string text, string reason)
    {
        var error = Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse(text));
        Assert.Contains($"'{text}'", error.Message);
        Assert.Contains(reason, error.Message);
        Assert.False(ImageReference.TryParse(text, out _));
    }

    [Fact]
    public void OverlongNamesAndTagsAreRefused()
    {
        Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse("example.com/" + new string('a', 250)));
        Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse("a:" + new string('t', 129)));
        Assert.Equal(128, ImageReference.Parse("a:" + new string('t', 128)).Tag!.Length);
    }

    [Fact]
    public void EqualityIsOnTheFullName()
    {
        Assert.Equal(ImageReference.Parse("busybox"), ImageReference.Parse("docker.io/library/busybox:latest"));
        Assert.NotEqual(ImageReference.Parse("busybox:1"), ImageReference.Parse("busybox:2"));
    }
}
