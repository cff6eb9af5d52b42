using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Init;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class CapabilitySetsTests
{
    [Fact]
    public void MasksAreBuiltFromNames()
    {
        var caps = new LinuxCapabilities
        {
            Bounding = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"],
            Effective = ["CAP_KILL"],
            Permitted = ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            Inheritable = ["CAP_AUDIT_WRITE"],
            Ambient = ["CAP_CHECKPOINT_RESTORE"],
        };

        var sets = CapabilitySets.From(caps, lastCapability: 40);

        Assert.Equal((1UL << 0) | (1UL << 5) | (1UL << 10) | (1UL << 21), sets.Bounding);
        Assert.Equal(1UL << 5, sets.Effective);
        Assert.Equal((1UL << 5) | (1UL << 10), sets.Permitted);
        Assert.Equal(1UL << 29, sets.Inheritable);
        Assert.Equal(1UL << 40, sets.Ambient);
    }

    [Fact]
    public void MissingSetsAreEmpty()
    {
        Assert.Equal(new CapabilitySets(0, 0, 0, 0, 0), CapabilitySets.From(null, 40));
        Assert.Equal(new CapabilitySets(0, 1UL << 1, 0, 0, 0),
            CapabilitySets.From(new LinuxCapabilities { Effective = ["CAP_DAC_OVERRIDE"] }, 40));
    }

    [Fact]
    public void DuplicateNamesAreHarmless()
    {
        var sets = CapabilitySets.From(new LinuxCapabilities { Bounding = ["CAP_KILL", "CAP_KILL"] }, 40);

        Assert.Equal(1UL << 5, sets.Bounding);
    }

    [Theory]
    [InlineData("CAP_BOGUS")]
    [InlineData("cap_kill")]
    [InlineData("KILL")]
    [InlineData("")]
    public void UnknownNameThrows(string name)
    {
        var caps = new LinuxCapabilities { Permitted = ["CAP_KILL", name] };

        var e = Assert.Throws<RuntimeException>(() => CapabilitySets.From(caps, 40));

        Assert.Contains($"\"{name}\"", e.Message);
    }

    [Fact]
    public void CapabilitiesAboveTheKernelsLastAreDroppedWithAWarning()
    {
        var warnings = new List<string>();
        var caps = new LinuxCapabilities
        {
            Bounding = ["CAP_KILL", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", "CAP_AUDIT_READ"],
        };

        var sets = CapabilitySets.From(caps, lastCapability: 37, warnings.Add);

        Assert.Equal((1UL << 5) | (1UL << 37), sets.Bounding);
        Assert.Equal(3, warnings.Count);
        Assert.Contains("CAP_PERFMON", warnings[0]);
        Assert.Contains("CAP_BPF", warnings[1]);
        Assert.Contains("CAP_CHECKPOINT_RESTORE", warnings[2]);
    }

    [Fact]
    public void DroppingWorksWithoutAWarningCallback()
    {
        var sets = CapabilitySets.From(new LinuxCapabilities { Effective = ["CAP_BPF", "CAP_CHOWN"] }, lastCapability: 38);

        Assert.Equal(1UL, sets.Effective);
    }
}
