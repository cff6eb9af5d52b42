using Moat.Interop;
using System.Text.Json;

namespace Moat.Tests.Network;

/// <summary>
/// Containers on Moat's networks end to end (bin/moat, bin/moat-monitor, bin/moat-runtime), each test in a
/// <see cref="TestHost"/> of its own: traffic goes only between that host's namespaces.
/// </summary>
public sealed class NetworkTests
{
    const string Sleep = "sleep 600";

    static string AddressOf(TestHost host, string container, string network)
    {
        using var doc = JsonDocument.Parse(host.Moat("network", "inspect", network).Ok());
        foreach (var c in doc.RootElement[0].GetProperty("Containers").EnumerateObject())
            if (c.Value.GetProperty("Name").GetString() == container)
                return c.Value.GetProperty("IPv4Address").GetString()!.Split('/')[0];
        throw new Xunit.Sdk.XunitException($"{container} is not on {network}");
    }

    /// <summary>A netprobe server in a detached container; returns once it answers from the container itself.</summary>
    static void Server(TestHost host, string name, string proto, int port, params string[] flags)
    {
        host.Detached(name, [.. flags, "busybox", "netprobe", "serve", proto, port.ToString()]);
        TestHost.Eventually(() => host.InContainer(name, $"netprobe {proto} 127.0.0.1 {port}").ExitCode == 0, $"{name} to answer on {port}/{proto}");
    }

    static bool Reaches(TestHost host, string client, string proto, string address, int port) =>
        host.InContainer(client, $"netprobe {proto} {address} {port}").ExitCode == 0;

    [Fact]
    public void DefaultBridgeGivesAddressRouteHostsAndResolvConf()
    {
        using var host = new TestHost();
        var output = host.Moat("run", "--rm", "--name", "first", "busybox", "sh", "-c", "ip -4 -o addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf").Ok();
        Assert.Matches(@"inet 10\.90\.0\.2/16", output);
        Assert.Contains("default via 10.90.0.1 dev eth0", output);
        Assert.Matches(@"10\.90\.0\.2\s+first", output);
        Assert.Contains("# Written by Moat", output);
        Assert.DoesNotContain("nameserver 127.", output);
        // Egress is masqueraded: the world sees the host's address.
        using var server = new OutsideServer(host, "tcp", 7000);
        Assert.Equal("peer=10.255.0.1\n", host.Moat("run", "--rm", "busybox", "netprobe", "tcp", TestHost.Outside, "7000").Ok());
        // --rm left nothing: no veth, no namespace, the address free again.
        Assert.DoesNotContain("mv", host.OnHost("ip", "-o", "link").Ok());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.StoreRoot, "runtime", "netns")));
    }

    [Fact]
    public void SubnetsNeverOverlapIncludingTheDefaultNetworksBeforeItExists()
    {
        using var host = new TestHost();
        // The default network is made on first use; its prefix is reserved from the start.
        var early = host.Moat("network", "create", "--subnet", "10.90.5.0/24", "early");
        Assert.NotEqual(0, early.ExitCode);
        Assert.Contains("overlaps 10.90.0.0/16", early.Stderr);
        host.Moat("network", "create", "--subnet", "10.92.0.0/24", "first").Ok();
        var clash = host.Moat("network", "create", "--subnet", "10.92.0.128/25", "second");
        Assert.NotEqual(0, clash.ExitCode);
        Assert.Contains("overlaps network first", clash.Stderr);
        Assert.Matches(@"inet 10\.90\.0\.\d+/16", host.Moat("run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0").Ok());
    }

    [Fact]
    public void AStoppedContainerWhoseNamespaceMountWentAwayStartsWithTheSameAddress()
    {
        // What a reboot does to a stopped container: its namespace's bind mount is gone, the file stays.
        using var host = new TestHost();
        host.Detached("keeper", "busybox", "sh", "-c", Sleep);
        var before = host.InContainer("keeper", "ip -4 -o addr show eth0").Ok().Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
        var id = host.Moat("inspect", "-f", "{{.Id}}", "keeper").Ok().Trim();
        host.Moat("stop", "-t", "1", "keeper").Ok();
        var nsPath = Path.Combine(host.StoreRoot, "runtime", "netns", id);
        Assert.True(File.Exists(nsPath), $"no namespace file at {nsPath}");
        Assert.Equal(0, Libc.umount2(nsPath, Libc.MNT_DETACH));
        host.Moat("start", "keeper").Ok();
        var after = host.InContainer("keeper", "ip -4 -o addr show eth0; ip route").Ok();
        Assert.Contains(before, after);
        Assert.Contains("default via 10.90.0.1 dev eth0", after);
    }

    [Fact]
    public void NoneHostAndContainerModes()
    {
        using var host = new TestHost();
        var none = host.Moat("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link").Ok();
        Assert.Single(none.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("uplink", host.Moat("run", "--rm", "--network", "host", "busybox", "ip", "-o", "link").Ok());
        host.Detached("owner", "busybox", "sh", "-c", Sleep);
        var owner = host.InContainer("owner", "ip -4 -o addr show eth0").Ok();
        var joined = host.Moat("run", "--rm", "--network", "container:owner", "busybox", "ip", "-4", "-o", "addr", "show", "eth0").Ok();
        Assert.Equal(owner.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], joined.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]);
        Assert.NotEqual(0, host.Moat("run", "--rm", "--network", "nosuch", "busybox", "true").ExitCode);
    }

    [Fact]
    public void NetworksAreSegmentedBothWaysAndMembersReachEachOtherByName()
    {
        using var host = new TestHost();
        host.Moat("network", "create", "red").Ok();
        host.Moat("network", "create", "blue").Ok();
        foreach (var (name, network) in new[] { ("r1", "red"), ("b1", "blue") })
        {
            host.Detached(name + "tcp", "--network", network, "busybox", "netprobe", "serve", "tcp", "80");
            host.Detached(name, "--network", network, "busybox", "netprobe", "serve", "udp", "53");
        }
        host.Detached("r2", "--network", "red", "busybox", "sh", "-c", Sleep);
        host.Detached("b2", "--network", "blue", "busybox", "sh", "-c", Sleep);
        var r1 = AddressOf(host, "r1tcp", "red");
        var b1 = AddressOf(host, "b1tcp", "blue");
        var r1udp = AddressOf(host, "r1", "red");
        var b1udp = AddressOf(host, "b1", "blue");
        TestHost.Eventually(() => Reaches(host, "r2", "tcp", r1, 80), "r2 to reach r1 on its own network");
        // By name: /etc/hosts of every member names the others.
        var byName = host.InContainer("r2", "netprobe tcp $(awk '$2==\"r1tcp\"{print $1}' /etc/hosts) 80").Ok();
        Assert.Equal($"peer={AddressOf(host, "r2", "red")}\n", byName);
        Assert.True(Reaches(host, "r2", "udp", r1udp, 53));
        Assert.Equal(0, host.InContainer("r2", $"netprobe icmp {r1}").ExitCode);
        TestHost.Eventually(() => Reaches(host, "b2", "tcp", b1, 80), "b2 to reach b1");
        // Across: TCP, UDP and ICMP refused both ways.
        Assert.False(Reaches(host, "r2", "tcp", b1, 80));
        Assert.False(Reaches(host, "r2", "udp", b1udp, 53));
        Assert.NotEqual(0, host.InContainer("r2", $"netprobe icmp {b1}").ExitCode);
        Assert.False(Reaches(host, "b2", "tcp", r1, 80));
        Assert.False(Reaches(host, "b2", "udp", r1udp, 53));
        Assert.NotEqual(0, host.InContainer("b2", $"netprobe icmp {r1}").ExitCode);
        Assert.DoesNotContain("b1", host.InContainer("r2", "cat /etc/hosts").Ok());
    }

    [Fact]
    public void PublishedPortsFromOutsideHostLoopbackHairpinAndOtherNetworks()
    {
        using var host = new TestHost();
        host.Moat("network", "create", "other").Ok();
        host.Detached("web", "-p", "8080:80", "-p", "5353:53/udp", "busybox", "sh", "-c", "netprobe serve udp 53 & exec netprobe serve tcp 80");
        host.Detached("client", "busybox", "sh", "-c", Sleep);
        host.Detached("stranger", "--network", "other", "busybox", "sh", "-c", Sleep);
        var ports = host.Moat("port", "web").Ok();
        Assert.Contains("80/tcp -> 0.0.0.0:8080", ports);
        Assert.Contains("53/udp -> 0.0.0.0:5353", ports);
        var probe = host.Moat("inspect", "web").Ok();
        // From outside: the server sees the client's own address.
        TestHost.Eventually(() => RunProbe(host, outside: true, "tcp", TestHost.HostUplink, 8080).ExitCode == 0, "the published port to answer from outside");
        Assert.Equal($"peer={TestHost.Outside}\n", RunProbe(host, outside: true, "tcp", TestHost.HostUplink, 8080).Ok());
        Assert.Equal($"peer={TestHost.Outside}\n", RunProbe(host, outside: true, "udp", TestHost.HostUplink, 5353).Ok());
        // From the host itself, on its loopback and on its own address.
        Assert.Equal(0, RunProbe(host, outside: false, "tcp", "127.0.0.1", 8080).ExitCode);
        Assert.Equal(0, RunProbe(host, outside: false, "tcp", TestHost.HostUplink, 8080).ExitCode);
        // Hairpin from a member of the same network, and from a container of another network.
        Assert.True(Reaches(host, "client", "tcp", TestHost.HostUplink, 8080));
        Assert.True(Reaches(host, "stranger", "tcp", TestHost.HostUplink, 8080));
        Assert.NotNull(probe);
    }

    /// <summary>The test's netprobe binary, run in the outside namespace or on the host (it is static).</summary>
    static Result RunProbe(TestHost host, bool outside, string proto, string address, int port)
    {
        var probe = OutsideServer.ProbeBinary(host);
        return outside ? host.InOutside(probe, proto, address, port.ToString()) : host.OnHost(probe, proto, address, port.ToString());
    }

    [Fact]
    public void EgressDenyAndAllow()
    {
        using var host = new TestHost();
        using var a = new OutsideServer(host, "tcp", 9000);
        using var b = new OutsideServer(host, "tcp", 9001);
        host.Detached("free", "busybox", "sh", "-c", Sleep);
        host.Detached("denied", "--egress", "deny", "busybox", "sh", "-c", Sleep);
        host.Detached("allowed", "--egress", $"allow={TestHost.Outside}/32:9000", "busybox", "sh", "-c", Sleep);
        TestHost.Eventually(() => Reaches(host, "free", "tcp", TestHost.Outside, 9000), "a container without policy to reach outside");
        Assert.True(Reaches(host, "free", "tcp", TestHost.Outside, 9001));
        Assert.False(Reaches(host, "denied", "tcp", TestHost.Outside, 9000));
        Assert.NotEqual(0, host.InContainer("denied", $"netprobe icmp {TestHost.Outside}").ExitCode);
        Assert.True(Reaches(host, "allowed", "tcp", TestHost.Outside, 9000));
        Assert.False(Reaches(host, "allowed", "tcp", TestHost.Outside, 9001));
        // Written as rules in Moat's table.
        Assert.Contains($"ip daddr {TestHost.Outside} meta l4proto {{ tcp, udp }} th dport 9000 accept", host.Ruleset());
    }

    [Fact]
    public void InternalNetworkReachesNothingOutside()
    {
        using var host = new TestHost();
        using var server = new OutsideServer(host, "tcp", 9000);
        host.Moat("network", "create", "--internal", "closed").Ok();
        host.Detached("in1", "--network", "closed", "busybox", "netprobe", "serve", "tcp", "80");
        host.Detached("in2", "--network", "closed", "busybox", "sh", "-c", Sleep);
        var in1 = AddressOf(host, "in1", "closed");
        TestHost.Eventually(() => Reaches(host, "in2", "tcp", in1, 80), "members of an internal network to reach each other");
        Assert.False(Reaches(host, "in2", "tcp", TestHost.Outside, 9000));
        Assert.NotEqual(0, host.InContainer("in2", $"netprobe icmp {TestHost.Outside}").ExitCode);
    }

    [Fact]
    public void AddressesAreReusedAfterRemovalAndNeverTwice()
    {
        using var host = new TestHost();
        host.Moat("network", "create", "--subnet", "10.77.0.0/24", "n").Ok();
        host.Detached("one", "--network", "n", "busybox", "sh", "-c", Sleep);
        host.Detached("two", "--network", "n", "busybox", "sh", "-c", Sleep);
        Assert.Equal("10.77.0.2", AddressOf(host, "one", "n"));
        Assert.Equal("10.77.0.3", AddressOf(host, "two", "n"));
        host.Moat("rm", "-f", "one").Ok();
        host.Detached("three", "--network", "n", "busybox", "sh", "-c", Sleep);
        Assert.Equal("10.77.0.2", AddressOf(host, "three", "n"));
        // network rm is refused while attached, and works (bridge and rules gone) once empty.
        var refused = host.Moat("network", "rm", "n");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("has 2 container(s) attached", refused.Stderr);
        host.Moat("rm", "-f", "two", "three").Ok();
        Assert.Contains("10.77.0.0/24", host.Ruleset());
        host.Moat("network", "rm", "n").Ok();
        Assert.DoesNotContain("10.77.0.0/24", host.Ruleset());
        Assert.DoesNotContain("10.77.0.1", host.OnHost("ip", "-o", "addr").Ok());
    }

    [Fact]
    public void ThirtyContainersOnOneNetwork()
    {
        using var host = new TestHost();
        host.Moat("network", "create", "crowd").Ok();
        var names = Enumerable.Range(0, 30).Select(i => $"c{i}").ToList();
        Parallel.ForEach(names, new ParallelOptions { MaxDegreeOfParallelism = 4 }, n => host.Detached(n, "--network", "crowd", "busybox", "sh", "-c", Sleep));
        var addresses = names.Select(n => AddressOf(host, n, "crowd")).ToList();
        Assert.Equal(30, addresses.Distinct().Count());
        Assert.Equal(0, host.InContainer("c0", $"netprobe icmp {addresses[29]}").ExitCode);
        Assert.Equal(0, host.InContainer("c29", $"netprobe icmp {addresses[0]}").ExitCode);
        // Its own line and the 29 others'.
        Assert.Equal("30", host.InContainer("c0", "awk '$2 ~ /^c[0-9]+$/' /etc/hosts | wc -l").Ok().Trim());
    }

    [Fact]
    public void ConnectAndDisconnect()
    {
        using var host = new TestHost();
        host.Moat("network", "create", "second").Ok();
        host.Detached("peer", "--network", "second", "busybox", "sh", "-c", Sleep);
        host.Detached("mover", "busybox", "sh", "-c", Sleep);
        host.Moat("network", "connect", "second", "mover").Ok();
        Assert.Contains("eth1", host.InContainer("mover", "ip -o link").Ok());
        Assert.Contains("peer", host.InContainer("mover", "cat /etc/hosts").Ok());
        Assert.Contains("mover", host.InContainer("peer", "cat /etc/hosts").Ok());
        Assert.Equal(0, host.InContainer("mover", $"netprobe icmp {AddressOf(host, "peer", "second")}").ExitCode);
        host.Moat("network", "disconnect", "second", "mover").Ok();
        Assert.DoesNotContain("eth1", host.InContainer("mover", "ip -o link").Ok());
        Assert.DoesNotContain("mover", host.InContainer("peer", "cat /etc/hosts").Ok());
    }

    [Fact]
    public void CrashMidSetupLeavesNothingAfterPrune()
    {
        using var host = new TestHost();
        host.Moat("network", "create", "crashy").Ok();
        var netns = Path.Combine(host.StoreRoot, "runtime", "netns");
        // moat kills itself (SIGKILL) once the namespace, veths and rules exist, before the runtime's create:
        // at that exact step, where a kill on a timer would race a fast `moat` that had already finished.
        var start = new System.Diagnostics.ProcessStartInfo("nsenter") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment[Moat.Engine.Containers.CrashPoint.EnvironmentVariable] = Moat.Engine.Containers.CrashPoint.NetworkAttached;
        foreach (var a in (string[])["--net=" + host.NamespacePath, TestHost.MoatBinary, "--root", host.StoreRoot, "run", "-d", "--network", "crashy", "-p", "8088:80", "busybox", "sh", "-c", Sleep])
            start.ArgumentList.Add(a);
        using (var moat = System.Diagnostics.Process.Start(start)!)
        {
            moat.WaitForExit();
            Assert.True(moat.ExitCode == 128 + 9, $"moat was to die of SIGKILL at the crash point; it exited {moat.ExitCode}: {moat.StandardError.ReadToEnd()}");
        }
        Assert.NotEmpty(Directory.EnumerateFiles(netns));
        Assert.Contains("8088", host.Ruleset());
        host.Moat("system", "prune", "-f").Ok();
        Assert.Empty(host.Moat("ps", "-aq").Stdout.Trim());
        Assert.Empty(Directory.EnumerateFiles(netns));
        Assert.DoesNotContain(netns, File.ReadAllText("/proc/self/mountinfo"));
        Assert.DoesNotContain(" mv", host.OnHost("ip", "-o", "link").Ok());
        Assert.DoesNotContain("8088", host.Ruleset());
        using var doc = JsonDocument.Parse(host.Moat("network", "inspect", "crashy").Ok());
        Assert.Empty(doc.RootElement[0].GetProperty("Containers").EnumerateObject());
    }

    [Fact]
    public void NetRawIsDroppedUnlessAdded()
    {
        using var host = new TestHost();
        var caps = host.Moat("run", "--rm", "busybox", "grep", "CapBnd", "/proc/self/status").Ok();
        var added = host.Moat("run", "--rm", "--cap-add", "NET_RAW", "busybox", "grep", "CapBnd", "/proc/self/status").Ok();
        static ulong Mask(string line) => Convert.ToUInt64(line.Split(':')[1].Trim(), 16);
        Assert.Equal(0UL, Mask(caps) & (1UL << 13));
        Assert.NotEqual(0UL, Mask(added) & (1UL << 13));
        Assert.Equal(0UL, Mask(caps) & (1UL << 12));
    }
}

/// <summary>netprobe serving in the outside namespace (the world beyond the host).</summary>
public sealed class OutsideServer : IDisposable
{
    readonly System.Diagnostics.Process process;

    public OutsideServer(TestHost host, string proto, int port)
    {
        var start = new System.Diagnostics.ProcessStartInfo("nsenter") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in (string[])["--net=/run/netns/" + host.OutsideName, ProbeBinary(host), "serve", proto, port.ToString()]) start.ArgumentList.Add(a);
        process = System.Diagnostics.Process.Start(start)!;
        TestHost.Eventually(() => host.InOutside(ProbeBinary(host), proto, TestHost.Outside, port.ToString()).ExitCode == 0, $"the outside server on {port}/{proto}");
    }

    /// <summary>The probe compiled for the image, copied out of the store's unpacked layer once per host.</summary>
    public static string ProbeBinary(TestHost host)
    {
        var copy = Path.Combine(host.Root, "netprobe");
        if (!File.Exists(copy))
            File.WriteAllBytes(copy, TestHost.Exec("sh", "-c", $"find {host.StoreRoot} -path '*bin/netprobe' -type f | head -1").Ok().Trim() is { Length: > 0 } found ? File.ReadAllBytes(found) : throw new InvalidOperationException("netprobe not found in the store"));
        File.SetUnixFileMode(copy, (UnixFileMode)Convert.ToInt32("755", 8));
        return copy;
    }

    public void Dispose()
    {
        try { process.Kill(); process.WaitForExit(5000); } catch (Exception) { }
        process.Dispose();
    }
}
