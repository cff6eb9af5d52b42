using System.Text.Json.Nodes;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>bin/moat, the command people use (the engine issues fill it in): today version and info.</summary>
public sealed class MoatCommandTests
{
    static string Moat => Path.Combine(MoatCli.RepositoryRoot, "bin", "moat");

    [Fact]
    public void InfoReportsTheHostAndTheTiersAsJson()
    {
        var info = JsonNode.Parse(MoatCli.Exec(Moat, ["info", "--format", "json"]).Ok().Stdout)!;
        var release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        Assert.Equal(release, info["kernel"]!.GetValue<string>());
        Assert.True(info["root"]!.GetValue<bool>());
        var layout = info["cgroups"]!["layout"]!.GetValue<string>();
        Assert.Contains(layout, new[] { "v1", "v2", "hybrid" });
        Assert.Equal("cgroupfs", info["cgroups"]!["driver"]!.GetValue<string>());
        var tiers = info["tiers"]!.AsArray().ToDictionary(t => t!["name"]!.GetValue<string>(), t => t!);
        Assert.Equal(["container", "sandbox", "vm"], tiers.Keys.Order());
        Assert.True(tiers["container"]["available"]!.GetValue<bool>());
        Assert.False(tiers["vm"]["built"]!.GetValue<bool>());
        // What the kernel says, seen the same way from outside.
        var bounding = Convert.ToUInt64(File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapBnd:"))["CapBnd:".Length..].Trim(), 16);
        var notHeld = info["security"]!["capabilitiesNotHeld"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
        Assert.Equal((bounding & (1UL << 24)) == 0, notHeld.Contains("CAP_SYS_RESOURCE"));
    }

    [Fact]
    public void InfoTableNamesEachTier()
    {
        var table = MoatCli.Exec(Moat, ["info"]).Ok().Stdout;
        Assert.Contains("tier container:", table);
        Assert.Contains("tier sandbox:", table);
        Assert.Contains("tier vm:", table);
        Assert.Contains("cgroups:", table);
    }

    [Fact]
    public void VersionNamesTheSpec() =>
        Assert.Contains("spec: 1.2.0", MoatCli.Exec(Moat, ["version"]).Ok().Stdout);
}
