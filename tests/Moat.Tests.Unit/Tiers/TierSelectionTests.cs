using Moat.Runtime;
using Moat.Runtime.Tiers;
using Xunit;

namespace Moat.Tests.Unit.Tiers;

public sealed class TierSelectionTests
{
    static Dictionary<string, string> Annotated(string tier) => new() { [IsolationNames.Annotation] = tier };

    [Fact]
    public void NothingAskedIsTheContainerTier() =>
        Assert.Equal(Isolation.Container, TierSelection.Choose(null, null, "/usr/bin/moat-runtime"));

    [Theory]
    [InlineData("sandbox", Isolation.Sandbox)]
    [InlineData("vm", Isolation.Vm)]
    [InlineData("container", Isolation.Container)]
    public void TheFlagChooses(string flag, Isolation expected) =>
        Assert.Equal(expected, TierSelection.Choose(flag, null, "moat-runtime"));

    [Fact]
    public void TheAnnotationChooses() =>
        Assert.Equal(Isolation.Vm, TierSelection.Choose(null, Annotated("vm"), "moat-runtime"));

    [Theory]
    [InlineData("/usr/local/bin/moat-runtime-sandbox", Isolation.Sandbox)]
    [InlineData("moat-runtime-vm", Isolation.Vm)]
    public void TheExecutableNameChooses(string name, Isolation expected) =>
        Assert.Equal(expected, TierSelection.Choose(null, null, name));

    [Theory]
    [InlineData("moat-runtime")]
    [InlineData("moat-runtime-unknown")]
    [InlineData("runc")]
    public void OtherExecutableNamesChooseNothing(string name) =>
        Assert.Null(TierSelection.FromExecutableName(name));

    [Fact]
    public void SourcesThatAgreeAreFine() =>
        Assert.Equal(Isolation.Sandbox, TierSelection.Choose("sandbox", Annotated("sandbox"), "moat-runtime-sandbox"));

    [Fact]
    public void SourcesThatDisagreeAreAnError()
    {
        var e = Assert.Throws<RuntimeException>(() => TierSelection.Choose(null, Annotated("sandbox"), "moat-runtime-vm"));
        Assert.Contains("run.moat.isolation asks for the sandbox tier but the executable name moat-runtime-vm asks for vm", e.Message);
    }

    [Fact]
    public void AnUnknownTierIsNamed()
    {
        var e = Assert.Throws<RuntimeException>(() => TierSelection.Choose("gvisor", null, null));
        Assert.Equal("--isolation: unknown isolation tier \"gvisor\" (known: container, sandbox, vm)", e.Message);
    }
}
