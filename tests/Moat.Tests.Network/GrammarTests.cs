using Moat.Network;
using Moat.Network.Addressing;
using Moat.Network.Firewall;
using Moat.Network.HostFiles;
using Moat.Network.Store;

namespace Moat.Tests.Network;

/// <summary>The grammars, the subnet arithmetic, resolv.conf and the ruleset text: no root, no namespace.</summary>
public sealed class GrammarTests
{
    [Theory]
    [InlineData("80", "0.0.0.0:0:80/tcp")]
    [InlineData("8080:80", "0.0.0.0:8080:80/tcp")]
    [InlineData("127.0.0.1:8080:80/udp", "127.0.0.1:8080:80/udp")]
    [InlineData("10.0.0.1::53/udp", "10.0.0.1:0:53/udp")]
    public void PublishForms(string text, string expected) =>
        Assert.Equal(expected, Assert.Single(PortMapping.Parse(text)).ToString());

    [Fact]
    public void PublishRangesMapOneToOne() =>
        Assert.Equal(["0.0.0.0:8000:80/tcp", "0.0.0.0:8001:81/tcp"], PortMapping.Parse("8000-8001:80-81").Select(p => p.ToString()));

    [Theory]
    [InlineData("0:80")]
    [InlineData("8000-8002:80-81")]
    [InlineData("80/sctp")]
    [InlineData("x:1:2:3")]
    [InlineData("::1:80:80")]
    public void BadPublishIsASentence(string text) => Assert.Throws<NetworkException>(() => PortMapping.Parse(text));

    [Fact]
    public void Egress()
    {
        Assert.Null(EgressRule.Parse(null));
        Assert.Empty(EgressRule.Parse("deny")!);
        Assert.Equal([new EgressRule("10.0.0.0/8", 443), new EgressRule("192.0.2.7/32", 0), new EgressRule("fd00::/8", 53)],
            EgressRule.Parse("allow=10.1.2.3/8:443,192.0.2.7,[fd00::/8]:53")!);
        Assert.Throws<NetworkException>(() => EgressRule.Parse("allow=10.0.0.0/8:http"));
        Assert.Throws<NetworkException>(() => EgressRule.Parse("maybe"));
    }

    [Fact]
    public void SubnetArithmetic()
    {
        var s = IpSubnet.Parse("10.91.3.77/24");
        Assert.Equal("10.91.3.0/24", s.ToString());
        Assert.Equal("10.91.3.1", s.At(1).ToString());
        Assert.Equal(((UInt128)1, (UInt128)254), s.HostRange);
        Assert.True(s.Overlaps(IpSubnet.Parse("10.91.0.0/16")));
        Assert.False(s.Overlaps(IpSubnet.Parse("10.91.4.0/24")));
        Assert.Equal("fd00::1", IpSubnet.Parse("fd00::/64").At(1).ToString());
        Assert.Throws<NetworkException>(() => IpSubnet.Parse("10.0.0.0/31"));
    }

    [Fact]
    public void ResolvConfLeavesOutLoopbackResolvers()
    {
        var text = ContainerHostFiles.RenderResolvConf("search example.org\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 192.0.2.53\noptions edns0\n", [], [], []);
        Assert.Contains("nameserver 192.0.2.53", text);
        Assert.DoesNotContain("127.0.0.53", text);
        Assert.DoesNotContain("::1", text);
        Assert.Contains("search example.org", text);
        Assert.Contains("options edns0", text);
        Assert.Contains("nameserver 9.9.9.9", ContainerHostFiles.RenderResolvConf("nameserver 127.0.0.1\n", ["9.9.9.9"], [], []));
    }

    [Fact]
    public void RulesetHoldsWhatTheStoreHolds()
    {
        var n1 = new NetworkRecord { Name = "a", Id = new string('a', 64), Bridge = "moat1", Subnet = "10.91.0.0/24", Gateway = "10.91.0.1", Created = DateTimeOffset.UnixEpoch };
        var n2 = n1 with { Name = "b", Id = new string('b', 64), Bridge = "moat2", Subnet = "10.91.1.0/24", Gateway = "10.91.1.1", Internal = true };
        var e = new EndpointRecord { Network = "a", Container = new string('c', 64), ContainerName = "c", Hostname = "c", Interface = "eth0", HostInterface = "mvccc1", Address = "10.91.0.2", Mac = "02:42:0a:5b:00:02" };
        var c = new ContainerNetworking { Container = e.Container, Namespace = "/ns", FilesDirectory = "/f", Ports = [new PortMapping { HostPort = 8080, ContainerPort = 80 }], Egress = [new EgressRule("192.0.2.0/24", 443)] };
        var script = RulesetBuilder.Build([n1, n2], [e], [c]);
        Assert.Contains("delete table inet moat", script);
        Assert.Contains("ip saddr 10.91.0.0/24 oifname != \"moat*\" masquerade", script);
        Assert.DoesNotContain("ip saddr 10.91.1.0/24 oifname != \"moat*\" masquerade", script);
        Assert.Contains("iifname \"moat2\" oifname != \"moat2\" drop", script);
        Assert.Contains("iifname \"moat1\" oifname \"moat*\" oifname != \"moat1\" drop", script);
        Assert.Contains("tcp dport 8080 dnat ip to 10.91.0.2:80", script);
        Assert.Contains("ip daddr 192.0.2.0/24 meta l4proto { tcp, udp } th dport 443 accept", script);
        Assert.Equal("add table inet moat\ndelete table inet moat\n", RulesetBuilder.Build([], [], []));
    }
}
