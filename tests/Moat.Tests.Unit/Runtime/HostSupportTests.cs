using Moat.Oci;
using Moat.Runtime;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class HostSupportTests
{
    // Every capability up to 40 except CAP_SYS_RESOURCE (24), as root's bounding set on our hosts.
    const ulong WithoutSysResource = ((1UL << 41) - 1) & ~(1UL << 24);

    [Theory]
    [InlineData("effective")]
    [InlineData("permitted")]
    [InlineData("inheritable")]
    [InlineData("ambient")]
    public void GrantingACapabilityTheRuntimeLacksIsRefusedByName(string set)
    {
        var caps = new LinuxCapabilities();
        List<string> names = ["CAP_CHOWN", "CAP_SYS_RESOURCE"];
        switch (set)
        {
            case "effective": caps.Effective = names; break;
            case "permitted": caps.Permitted = names; break;
            case "inheritable": caps.Inheritable = names; break;
            default: caps.Ambient = names; break;
        }
        var e = Assert.Throws<RuntimeException>(() => HostSupport.CheckCapabilities(caps, WithoutSysResource));
        Assert.Equal($"process.capabilities.{set}: CAP_SYS_RESOURCE is not in this runtime's own capability bounding set, so it cannot be granted on this host", e.Message);
    }

    [Fact]
    public void BoundingMayNameMoreThanTheRuntimeHolds()
    {
        var caps = new LinuxCapabilities
        {
            Bounding = ["CAP_CHOWN", "CAP_SYS_RESOURCE"],
            Effective = ["CAP_CHOWN"],
            Permitted = ["CAP_CHOWN"],
        };
        HostSupport.CheckCapabilities(caps, WithoutSysResource);
    }
}
