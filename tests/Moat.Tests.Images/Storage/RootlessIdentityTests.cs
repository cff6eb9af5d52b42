using Moat.Images.Storage;

namespace Moat.Tests.Images.Storage;

/// <summary>How the rootless engine, uid 0 in its own namespace, tells itself from the host's root: the uid_map.</summary>
public class RootlessIdentityTests
{
    [Theory]
    [InlineData("         0          0 4294967295\n", 0u)]
    [InlineData("         0       1002          1\n         1     165536      65536\n", 1002u)]
    [InlineData("         0       1002          1\n", 1002u)]
    [InlineData("      1002          0          1\n         0          1       1002\n", 1u)]
    public void IdZeroMapsToTheHostIdOnItsLine(string map, uint expected) => Assert.Equal(expected, RootlessIdentity.ZeroMapsTo(map));

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("      1000       1000          1\n")]
    public void NoLineForZeroIsNoAnswer(string? map) => Assert.Null(RootlessIdentity.ZeroMapsTo(map));
}
