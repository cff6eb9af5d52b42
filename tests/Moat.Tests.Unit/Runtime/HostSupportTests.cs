using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Init;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class HostSupportTests
{
    [Fact]
    public void WithoutCapabilitiesTheProcessGetsNone()
    {
        var warnings = new List<string>();

        Assert.Equal(CapabilitySets.None, HostSupport.GrantableCapabilities(null, 40, warnings.Add));
        Assert.Empty(warnings);
    }

    /// <summary>
    /// A capability beyond every kernel's last is never granted, whatever this process holds: the
    /// runtime's own bounding set and last capability are read and applied (the rules are in
    /// CapabilitySetsTests).
    /// </summary>
    [Fact]
    public void TheRuntimesOwnLimitsAreApplied()
    {
        var caps = new LinuxCapabilities { Bounding = ["CAP_CHOWN", "CAP_NOT_YET_INVENTED"] };
        var warnings = new List<string>();

        var sets = HostSupport.GrantableCapabilities(caps, 40, warnings.Add);

        Assert.Equal(["process.capabilities.bounding: unknown capability \"CAP_NOT_YET_INVENTED\"; dropped"],
            warnings.Where(w => !w.Contains("CAP_CHOWN")));
        var status = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("CapBnd:"));
        var ownBounding = Convert.ToUInt64(status["CapBnd:".Length..].Trim(), 16);
        Assert.Equal(ownBounding & 1, sets.Bounding);
    }
}
