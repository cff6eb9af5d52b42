using Moat.Oci;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Sandbox;

/// <summary>
/// Mount points missing from the rootfs of a sandboxed container (Moat.Sandbox/Tier/MountPoints): the tier's
/// own user namespace cannot create them in a rootfs owned by the host's root, as podman's images without
/// /proc showed; the runtime makes them before the create, as the container tier's init would.
/// </summary>
[Collection("sandbox")]
public sealed class MountPointTests(SandboxFixture fixture)
{
    [Fact]
    public void MissingMountPointsAreMadeForTheTiersUserNamespace()
    {
        var mounts = fixture.Bundle.Spec.Mounts!;
        var before = mounts.ToList();
        var source = Path.Combine(fixture.Bundle.Directory, "bound-file");
        File.WriteAllText(source, "bound");
        File.SetUnixFileMode(source, (UnixFileMode)Convert.ToInt32("644", 8));
        try
        {
            mounts.Add(new Mount { Destination = "/moat-made/dir", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "nodev"] });
            mounts.Add(new Mount { Destination = "/moat-made/dir/nested", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "nodev"] });
            mounts.Add(new Mount { Destination = "/etc/moat-bound", Type = "bind", Source = source, Options = ["rbind", "ro"] });
            var result = fixture.Run("test -d /moat-made/dir/nested && cat /etc/moat-bound");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Equal("bound", result.Stdout.Trim());
            // Made in the rootfs as the host's root; the nested one inside its tmpfs by the init, not in the image.
            Assert.True(Directory.Exists(Path.Combine(fixture.Bundle.Rootfs, "moat-made", "dir")));
            Assert.False(Directory.Exists(Path.Combine(fixture.Bundle.Rootfs, "moat-made", "dir", "nested")));
            Assert.True(File.Exists(Path.Combine(fixture.Bundle.Rootfs, "etc", "moat-bound")));
        }
        finally
        {
            mounts.Clear();
            mounts.AddRange(before);
            fixture.Bundle.Write();
            if (Directory.Exists(Path.Combine(fixture.Bundle.Rootfs, "moat-made")))
                Directory.Delete(Path.Combine(fixture.Bundle.Rootfs, "moat-made"), recursive: true);
            File.Delete(Path.Combine(fixture.Bundle.Rootfs, "etc", "moat-bound"));
            File.Delete(source);
        }
    }
}
