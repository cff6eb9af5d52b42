using Moat.Oci;
using Moat.Runtime.Init;
using Xunit;

namespace Moat.Tests.Unit.Runtime;

public class CapabilitySetsTests
{
    /// <summary>Every capability up to 40.</summary>
    const ulong All = (1UL << 41) - 1;

    /// <summary>Root's bounding set on our hosts: everything but CAP_SYS_RESOURCE (24).</summary>
    const ulong WithoutSysResource = All & ~(1UL << 24);

    const ulong Kill = 1UL << 5, NetBindService = 1UL << 10, AuditWrite = 1UL << 29;

    static readonly List<string> RuncSpecCapabilities = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

    [Fact]
    public void MasksAreBuiltFromNames()
    {
        var caps = new LinuxCapabilities
        {
            Bounding = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN", "CAP_AUDIT_WRITE", "CAP_CHECKPOINT_RESTORE"],
            Effective = ["CAP_KILL"],
            Permitted = ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHECKPOINT_RESTORE"],
            Inheritable = ["CAP_AUDIT_WRITE", "CAP_CHECKPOINT_RESTORE"],
            Ambient = ["CAP_CHECKPOINT_RESTORE"],
        };
        var warnings = new List<string>();

        var sets = CapabilitySets.From(caps, All, lastCapability: 40, warnings.Add);

        Assert.Equal(1UL | Kill | NetBindService | (1UL << 21) | AuditWrite | (1UL << 40), sets.Bounding);
        Assert.Equal(Kill, sets.Effective);
        Assert.Equal(Kill | NetBindService | (1UL << 40), sets.Permitted);
        Assert.Equal(AuditWrite | (1UL << 40), sets.Inheritable);
        Assert.Equal(1UL << 40, sets.Ambient);
        Assert.Empty(warnings);
    }

    [Fact]
    public void MissingSetsAreEmpty()
    {
        Assert.Equal(CapabilitySets.None, CapabilitySets.From(null, All, 40));
        Assert.Equal(new CapabilitySets(0, 0, 1UL << 1, 0, 0),
            CapabilitySets.From(new LinuxCapabilities { Permitted = ["CAP_DAC_OVERRIDE"] }, All, 40));
    }

    [Fact]
    public void DuplicateNamesAreHarmless()
    {
        var sets = CapabilitySets.From(new LinuxCapabilities { Bounding = ["CAP_KILL", "CAP_KILL"] }, All, 40);

        Assert.Equal(Kill, sets.Bounding);
    }

    /// <summary>
    /// `runc spec` (runc 1.1.2 and later) writes ambient equal to bounding, effective and permitted, and
    /// no inheritable. The kernel raises an ambient capability only if it is inheritable and permitted:
    /// each is dropped with a warning, and the container runs (as under runc and crun: CapAmb 0).
    /// </summary>
    [Fact]
    public void AmbientCapabilitiesThatAreNotInheritableAreDroppedWithAWarningEach()
    {
        var caps = new LinuxCapabilities
        {
            Bounding = RuncSpecCapabilities, Effective = RuncSpecCapabilities, Permitted = RuncSpecCapabilities, Ambient = RuncSpecCapabilities,
        };
        var warnings = new List<string>();

        var sets = CapabilitySets.From(caps, WithoutSysResource, 40, warnings.Add);

        Assert.Equal(new CapabilitySets(Kill | NetBindService | AuditWrite, Kill | NetBindService | AuditWrite, Kill | NetBindService | AuditWrite, 0, 0), sets);
        Assert.Equal(
        [
            "process.capabilities.ambient: CAP_KILL is not both inheritable and permitted, so it cannot be ambient; dropped",
            "process.capabilities.ambient: CAP_NET_BIND_SERVICE is not both inheritable and permitted, so it cannot be ambient; dropped",
            "process.capabilities.ambient: CAP_AUDIT_WRITE is not both inheritable and permitted, so it cannot be ambient; dropped",
        ], warnings);
    }

    [Fact]
    public void AmbientNeedsPermittedAsWellAsInheritable()
    {
        var caps = new LinuxCapabilities { Bounding = ["CAP_KILL"], Inheritable = ["CAP_KILL"], Ambient = ["CAP_KILL"] };
        var warnings = new List<string>();

        var sets = CapabilitySets.From(caps, All, 40, warnings.Add);

        Assert.Equal(0UL, sets.Ambient);
        Assert.Equal(Kill, sets.Inheritable);
        Assert.Equal(["process.capabilities.ambient: CAP_KILL is not both inheritable and permitted, so it cannot be ambient; dropped"], warnings);
    }

    /// <summary>capset(2) refuses an effective capability that is not permitted, and an inheritable one outside the bounding set.</summary>
    [Fact]
    public void EffectiveMustBePermittedAndInheritableMustBeInTheBoundingSet()
    {
        var caps = new LinuxCapabilities
        {
            Bounding = ["CAP_KILL"],
            Permitted = ["CAP_KILL", "CAP_CHOWN"],
            Effective = ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            Inheritable = ["CAP_KILL", "CAP_CHOWN"],
        };
        var warnings = new List<string>();

        var sets = CapabilitySets.From(caps, All, 40, warnings.Add);

        Assert.Equal(Kill, sets.Effective);
        Assert.Equal(Kill | 1UL, sets.Permitted);
        Assert.Equal(Kill, sets.Inheritable);
        Assert.Equal(
        [
            "process.capabilities.effective: CAP_NET_BIND_SERVICE is not in the permitted set, so it cannot be effective; dropped",
            "process.capabilities.inheritable: CAP_CHOWN is not in the bounding set, so it cannot be inheritable; dropped",
        ], warnings);
    }

    /// <summary>
    /// Root here lacks CAP_SYS_RESOURCE: no process this runtime starts can hold it (`docker run
    /// --privileged` asks for it). It is left out of every set it is named in, with a warning each,
    /// instead of failing the container (runtime-spec: SHOULD NOT fail).
    /// </summary>
    [Fact]
    public void CapabilitiesOutsideTheRuntimesBoundingSetAreDroppedWithAWarningPerSet()
    {
        List<string> names = ["CAP_CHOWN", "CAP_SYS_RESOURCE"];
        var caps = new LinuxCapabilities { Bounding = names, Effective = names, Permitted = names, Inheritable = names, Ambient = names };
        var warnings = new List<string>();

        var sets = CapabilitySets.From(caps, WithoutSysResource, 40, warnings.Add);

        Assert.Equal(new CapabilitySets(1, 1, 1, 1, 1), sets);
        Assert.Equal(["bounding", "permitted", "effective", "inheritable", "ambient"],
            warnings.Select(w => w.Split(':')[0]["process.capabilities.".Length..]));
        Assert.All(warnings, w => Assert.EndsWith(": CAP_SYS_RESOURCE is not in this runtime's own capability bounding set, so it cannot be granted; dropped", w));
    }

    [Theory]
    [InlineData("CAP_BOGUS")]
    [InlineData("cap_kill")]
    [InlineData("KILL")]
    [InlineData("")]
    public void UnknownNamesAreDroppedWithAWarning(string name)
    {
        var caps = new LinuxCapabilities { Permitted = ["CAP_KILL", name] };
        var warnings = new List<string>();

        var sets = CapabilitySets.From(caps, All, 40, warnings.Add);

        Assert.Equal(Kill, sets.Permitted);
        Assert.Equal([$"process.capabilities.permitted: unknown capability \"{name}\"; dropped"], warnings);
    }

    [Fact]
    public void CapabilitiesAboveTheKernelsLastAreDroppedWithAWarning()
    {
        var warnings = new List<string>();
        var caps = new LinuxCapabilities
        {
            Bounding = ["CAP_KILL", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", "CAP_AUDIT_READ"],
        };

        var sets = CapabilitySets.From(caps, All, lastCapability: 37, warnings.Add);

        Assert.Equal(Kill | (1UL << 37), sets.Bounding);
        Assert.Equal(
        [
            "process.capabilities.bounding: CAP_PERFMON is not known to this kernel; dropped",
            "process.capabilities.bounding: CAP_BPF is not known to this kernel; dropped",
            "process.capabilities.bounding: CAP_CHECKPOINT_RESTORE is not known to this kernel; dropped",
        ], warnings);
    }

    [Fact]
    public void DroppingWorksWithoutAWarningCallback()
    {
        var sets = CapabilitySets.From(new LinuxCapabilities { Permitted = ["CAP_BPF", "CAP_CHOWN"], Ambient = ["CAP_CHOWN"] }, All, lastCapability: 38);

        Assert.Equal(1UL, sets.Permitted);
        Assert.Equal(0UL, sets.Ambient);
    }
}
