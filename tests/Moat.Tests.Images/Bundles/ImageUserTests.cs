using Moat.Images.Bundles;

namespace Moat.Tests.Images.Bundles;

public sealed class ImageUserTests
{
    [Theory]
    // (user, uid, gid, additional gids, home): what runc's GetExecUser gives Docker and Podman.
    [InlineData(null, 0u, 0u, "10", "/root")]
    [InlineData("", 0u, 0u, "10", "/root")]
    [InlineData("app", 1000u, 1000u, "10,29", "/home/app")]
    [InlineData("1000", 1000u, 1000u, "10,29", "/home/app")]
    [InlineData("app:audio", 1000u, 29u, "", "/home/app")]
    [InlineData("app:50", 1000u, 50u, "", "/home/app")]
    [InlineData("4242", 4242u, 0u, "", "/")]
    [InlineData("4242:4243", 4242u, 4243u, "", "/")]
    [InlineData("4242:staff", 4242u, 50u, "", "/")]
    [InlineData("nobody", 65534u, 65534u, "", "/nonexistent")]
    public void ResolvesLikeDocker(string? user, uint uid, uint gid, string additional, string home)
    {
        using var root = new TestRootfs().WithAccounts();
        var resolved = ImageUser.Resolve(root.Rootfs, user);
        Assert.Equal((uid, gid, home), (resolved.Uid, resolved.Gid, resolved.Home));
        Assert.Equal(additional, string.Join(',', resolved.AdditionalGids));
    }

    [Theory]
    [InlineData("ghost", "user \"ghost\" is not in the image's /etc/passwd")]
    [InlineData("app:ghosts", "group \"ghosts\" is not in the image's /etc/group")]
    [InlineData(":10", "names no user")]
    [InlineData("99999999999", "out of range")]
    [InlineData("1:3000000000", "out of range")]
    public void RefusesWhatCannotBeResolved(string user, string message)
    {
        using var root = new TestRootfs().WithAccounts();
        var error = Assert.Throws<BundleException>(() => ImageUser.Resolve(root.Rootfs, user));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void WithoutAccountFilesOnlyNumbersWork()
    {
        using var root = new TestRootfs();
        Assert.Equal((7u, 8u), (ImageUser.Resolve(root.Rootfs, "7:8").Uid, ImageUser.Resolve(root.Rootfs, "7:8").Gid));
        Assert.Contains("the image has no /etc/passwd", Assert.Throws<BundleException>(() => ImageUser.Resolve(root.Rootfs, "root")).Message);
        Assert.Contains("the image has no /etc/group", Assert.Throws<BundleException>(() => ImageUser.Resolve(root.Rootfs, "0:wheel")).Message);
    }

    [Fact]
    public void AbsoluteSymlinksResolveInsideTheRootfs()
    {
        using var root = new TestRootfs();
        // /etc/passwd -> /../../../usr/lib/passwd: outside the rootfs ".." climbs to the host's /usr/lib.
        File.WriteAllText(root.PathOf("/usr/lib/passwd"), "imageonly:x:321:654::/home/imageonly:/bin/sh\n");
        File.CreateSymbolicLink(root.PathOf("/etc/passwd"), "/../../../usr/lib/passwd");
        // /etc/group -> /etc/shadow: the host has that file; the image does not.
        File.CreateSymbolicLink(root.PathOf("/etc/group"), "/etc/shadow");
        Assert.True(File.Exists("/etc/shadow"), "the host file the link names must exist for this test to mean anything");

        var user = ImageUser.Resolve(root.Rootfs, "imageonly");
        Assert.Equal((321u, 654u, "/home/imageonly"), (user.Uid, user.Gid, user.Home));
        Assert.Empty(user.AdditionalGids);
        // The host's root is not the image's: the host /etc/passwd was not read.
        Assert.Throws<BundleException>(() => ImageUser.Resolve(root.Rootfs, "root"));
        Assert.Contains("the image has no /etc/group", Assert.Throws<BundleException>(() => ImageUser.Resolve(root.Rootfs, "imageonly:shadow")).Message);
    }

    [Fact]
    public void ASymlinkLoopOrAFifoIsAClearError()
    {
        using var root = new TestRootfs();
        File.CreateSymbolicLink(root.PathOf("/etc/passwd"), "/etc/passwd");
        Assert.Contains("cannot open /etc/passwd in the image's root filesystem", Assert.Throws<BundleException>(() => ImageUser.Resolve(root.Rootfs, "app")).Message);

        File.Delete(root.PathOf("/etc/passwd"));
        Assert.Equal(0, Moat.Interop.Libc.mkfifo(root.PathOf("/etc/passwd"), 0x1a4));
        Assert.Contains("not a regular file", Assert.Throws<BundleException>(() => ImageUser.Resolve(root.Rootfs, "app")).Message);
    }
}
