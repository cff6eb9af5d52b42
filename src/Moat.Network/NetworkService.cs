using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Moat.Network.Addressing;
using Moat.Network.Firewall;
using Moat.Network.HostFiles;
using Moat.Network.Links;
using Moat.Network.Namespaces;
using Moat.Network.Store;

namespace Moat.Network;

/// <summary>What `moat network create` asks.</summary>
public sealed record NetworkCreateOptions
{
    public required string Name { get; init; }
    public string? Subnet { get; init; }
    public string? Gateway { get; init; }
    public bool Internal { get; init; }
    public bool IPv6 { get; init; }
    public string? Subnet6 { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
}

/// <summary>A container's networking as `run` asks it: the networks to join (or another container's namespace), ports, egress, DNS.</summary>
public sealed record AttachRequest
{
    public required string Container { get; init; }
    public required string ContainerName { get; init; }
    public required string Hostname { get; init; }
    /// <summary>The container's own directory: hosts and resolv.conf go there.</summary>
    public required string FilesDirectory { get; init; }
    public IReadOnlyList<string> Networks { get; init; } = [NetworkRecord.DefaultName];
    /// <summary>container:NAME, resolved to its id by the engine: join its namespace instead.</summary>
    public string? ShareWith { get; init; }
    public IReadOnlyList<PortMapping> Ports { get; init; } = [];
    /// <summary>-P: these exposed ports ("80/tcp") get free host ports.</summary>
    public IReadOnlyList<string> PublishAll { get; init; } = [];
    public List<EgressRule>? Egress { get; init; }
    public IReadOnlyList<(string Name, string Address)> ExtraHosts { get; init; } = [];
    public IReadOnlyList<string> Dns { get; init; } = [];
    public IReadOnlyList<string> DnsSearch { get; init; } = [];
    public IReadOnlyList<string> DnsOptions { get; init; } = [];
}

/// <summary>What the engine puts in the spec: the namespace to join and the files to mount over /etc/hosts and /etc/resolv.conf.</summary>
public sealed record AttachResult(string NamespacePath, string HostsFile, string ResolvConfFile, IReadOnlyList<PortMapping> Ports);

/// <summary>
/// Networks for the engine: the objects (create, ls, inspect, rm, prune), a container's namespace with its
/// veths, addresses and routes (attach, connect, disconnect, release), its hosts files, and the firewall
/// table, written again from the database after every change. Runs in the engine's network namespace,
/// which plays the host.
/// </summary>
public sealed class NetworkService : IDisposable
{
    /// <summary>The default network's prefix; named networks get /24s from <see cref="NamedPool"/> unless --subnet says.</summary>
    public const string DefaultSubnet = "10.90.0.0/16", NamedPool = "10.91.0.0/16";

    public NetworkStore Store { get; }
    readonly string namespaceDirectory;

    /// <param name="runtimeRoot">Namespaces are bind-mounted in its netns/ directory.</param>
    public NetworkService(string databasePath, string runtimeRoot)
    {
        Store = new NetworkStore(databasePath);
        namespaceDirectory = Path.Combine(runtimeRoot, "netns");
    }

    public void Dispose() => Store.Dispose();

    public string NamespacePathOf(string container) => Path.Combine(namespaceDirectory, container);

    // Networks as objects.

    public NetworkRecord Create(NetworkCreateOptions options)
    {
        if (options.Name is "none" or "host" || options.Name.StartsWith("container:", StringComparison.Ordinal)
            || options.Name.Length is 0 or > 64 || !options.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            throw new NetworkException($"\"{options.Name}\" cannot be a network's name (letters, digits, _ . -; not none or host)");
        var record = Store.Write(t =>
        {
            if (Store.FindNetwork(options.Name, t) is not null)
                throw new NetworkException($"network with name {options.Name} already exists");
            var networks = Store.Networks(t);
            IpSubnet subnet;
            if (options.Subnet is { } s)
            {
                subnet = IpSubnet.Parse(s, "--subnet");
                if (subnet.IsV6) throw new NetworkException("--subnet takes an IPv4 prefix; an IPv6 one comes with --ipv6 --subnet6");
                if (networks.FirstOrDefault(n => IpSubnet.Parse(n.Subnet).Overlaps(subnet)) is { } clash)
                    throw new NetworkException($"subnet {subnet} overlaps network {clash.Name}'s {clash.Subnet}");
                // The default network is made on first use: its prefix is reserved before it exists.
                if (options.Name != NetworkRecord.DefaultName && !networks.Any(n => n.Name == NetworkRecord.DefaultName) && IpSubnet.Parse(DefaultSubnet).Overlaps(subnet))
                    throw new NetworkException($"subnet {subnet} overlaps {DefaultSubnet}, the prefix of the default network {NetworkRecord.DefaultName}");
            }
            else if (options.Name == NetworkRecord.DefaultName)
            {
                // A store whose networks already hold the default prefix (made before it was reserved) gets a free one.
                subnet = IpSubnet.Parse(DefaultSubnet);
                if (networks.Any(n => IpSubnet.Parse(n.Subnet).Overlaps(subnet)))
                    subnet = FreeSubnet(networks);
            }
            else
            {
                subnet = FreeSubnet(networks);
            }
            var gateway = subnet.At(1);
            if (options.Gateway is { } g)
            {
                if (!IPAddress.TryParse(g, out var parsed) || !subnet.Contains(parsed))
                    throw new NetworkException($"--gateway {g} is not an address in {subnet}");
                gateway = parsed;
            }
            string? subnet6 = null, gateway6 = null;
            if (options.IPv6 || options.Subnet6 is not null)
            {
                var s6 = options.Subnet6 is { } given6 ? IpSubnet.Parse(given6, "--subnet6") : IpSubnet.Parse($"fd6d:6f61:74:{networks.Count:x}::/64");
                if (!s6.IsV6) throw new NetworkException($"--subnet6 {s6} is not an IPv6 prefix");
                subnet6 = s6.ToString();
                gateway6 = s6.At(1).ToString();
            }
            var used = networks.Select(n => n.Bridge).ToHashSet(StringComparer.Ordinal);
            var bridge = Enumerable.Range(0, 10000).Select(i => RulesetBuilder.BridgePrefix + i.ToString(CultureInfo.InvariantCulture)).First(b => !used.Contains(b));
            var network = new NetworkRecord
            {
                Name = options.Name, Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), Bridge = bridge,
                Subnet = subnet.ToString(), Gateway = gateway.ToString(), Subnet6 = subnet6, Gateway6 = gateway6,
                Internal = options.Internal, Labels = new Dictionary<string, string>(options.Labels), Created = DateTimeOffset.UtcNow,
            };
            Store.InsertNetwork(t, network);
            return network;
        });
        try
        {
            EnsureBridge(record);
            ApplyFirewall();
        }
        catch
        {
            Store.Write(t => { Store.DeleteNetwork(t, record.Name); return 0; });
            RemoveBridge(record);
            throw;
        }
        return record;
    }

    static IpSubnet FreeSubnet(IReadOnlyList<NetworkRecord> networks)
    {
        var pool = IpSubnet.Parse(NamedPool);
        var taken = networks.Select(n => IpSubnet.Parse(n.Subnet)).ToList();
        for (var i = 0; i < 256; i++)
        {
            var candidate = new IpSubnet(pool.At((UInt128)(i * 256)), 24);
            if (!taken.Any(t => t.Overlaps(candidate)))
                return candidate;
        }
        throw new NetworkException($"no free /24 is left in {NamedPool}: give --subnet");
    }

    public IReadOnlyList<NetworkRecord> List() => Store.Networks();

    public NetworkRecord Get(string reference) =>
        Store.FindNetwork(reference) ?? throw new NetworkException($"network {reference} not found");

    /// <summary>The default network, made the first time a container needs it.</summary>
    NetworkRecord Resolve(string name)
    {
        if (Store.FindNetwork(name) is { } found)
            return found;
        if (name != NetworkRecord.DefaultName)
            throw new NetworkException($"network {name} not found");
        try
        {
            return Create(new NetworkCreateOptions { Name = NetworkRecord.DefaultName });
        }
        catch (NetworkException) when (Store.FindNetwork(name) is { } raced)
        {
            return raced;
        }
    }

    public void Remove(string reference)
    {
        var network = Get(reference);
        var members = Store.EndpointsOfNetwork(network.Name);
        if (members.Count > 0)
            throw new NetworkException($"network {network.Name} has {members.Count} container(s) attached ({string.Join(", ", members.Select(m => m.ContainerName))}): remove or disconnect them first");
        Store.Write(t => { Store.DeleteNetwork(t, network.Name); return 0; });
        ApplyFirewall();
        RemoveBridge(network);
    }

    /// <summary>`network prune`: networks no container uses (the default one stays).</summary>
    public IReadOnlyList<string> Prune()
    {
        var used = Store.Endpoints().Select(e => e.Network).ToHashSet(StringComparer.Ordinal);
        var removed = new List<string>();
        foreach (var n in Store.Networks().Where(n => n.Name != NetworkRecord.DefaultName && !used.Contains(n.Name)))
        {
            Remove(n.Name);
            removed.Add(n.Name);
        }
        return removed;
    }

    void EnsureBridge(NetworkRecord n)
    {
        var prefix = IpSubnet.Parse(n.Subnet).PrefixLength;
        var lines = new List<string>();
        if (!IpCommand.LinkExists(n.Bridge))
            lines.Add($"link add {n.Bridge} type bridge");
        lines.Add($"addr replace {n.Gateway}/{prefix} dev {n.Bridge}");
        if (n.Subnet6 is { } s6)
            lines.Add($"addr replace {n.Gateway6}/{IpSubnet.Parse(s6).PrefixLength} dev {n.Bridge} nodad");
        lines.Add($"link set {n.Bridge} up");
        IpCommand.Batch(lines);
        IpCommand.Sysctl("ipv4/ip_forward", "1");
        if (n.Subnet6 is not null)
            IpCommand.Sysctl("ipv6/conf/all/forwarding", "1");
        IpCommand.Sysctl($"ipv4/conf/{n.Bridge}/route_localnet", "1");
    }

    static void RemoveBridge(NetworkRecord n)
    {
        if (IpCommand.LinkExists(n.Bridge))
            IpCommand.Batch([$"link del {n.Bridge}"], ignoreErrors: true);
    }

    /// <summary>Writes the whole `inet moat` table again from the database.</summary>
    public void ApplyFirewall() => Nftables.Apply(RulesetBuilder.Build(Store.Networks(), Store.Endpoints(), Store.Containers()));

    // Containers.

    /// <summary>
    /// A container's networking before its runtime create: the record first (so a crash leaves what prune
    /// finds), then the namespace, one veth per network with its address and the default route via the
    /// first network's gateway, the hosts files, and the firewall. On failure what was made is undone.
    /// </summary>
    public AttachResult Attach(AttachRequest request)
    {
        Directory.CreateDirectory(request.FilesDirectory);
        var hosts = Path.Combine(request.FilesDirectory, ContainerHostFiles.Hosts);
        var resolv = Path.Combine(request.FilesDirectory, ContainerHostFiles.ResolvConf);
        if (request.ShareWith is { } other)
        {
            var owner = Store.Container(other) ?? throw new NetworkException($"container {other} has no network namespace of Moat's to share");
            if (owner.Namespace is null)
                throw new NetworkException($"container {other} itself shares another container's namespace: name that one");
            Store.Write(t => { Store.PutContainer(t, new ContainerNetworking { Container = request.Container, SharedWith = other, FilesDirectory = owner.FilesDirectory }); return 0; });
            return new AttachResult(owner.Namespace, Path.Combine(owner.FilesDirectory, ContainerHostFiles.Hosts), Path.Combine(owner.FilesDirectory, ContainerHostFiles.ResolvConf), []);
        }
        var networks = request.Networks.Distinct(StringComparer.Ordinal).Select(Resolve).ToList();
        var ports = ResolvePorts(request);
        var nsPath = NamespacePathOf(request.Container);
        Store.Write(t =>
        {
            Store.PutContainer(t, new ContainerNetworking { Container = request.Container, Namespace = nsPath, FilesDirectory = request.FilesDirectory, Ports = ports.ToList(), Egress = request.Egress });
            return 0;
        });
        try
        {
            NamespaceFile.Create(nsPath);
            for (var i = 0; i < networks.Count; i++)
                Join(networks[i], request.Container, request.ContainerName, request.Hostname, nsPath, $"eth{i}", defaultRoute: i == 0);
            ContainerHostFiles.WriteInPlace(resolv, ContainerHostFiles.RenderResolvConf(ReadHostResolvConf(), request.Dns, request.DnsSearch, request.DnsOptions));
            File.WriteAllText(Path.Combine(request.FilesDirectory, "extra-hosts"), string.Concat(request.ExtraHosts.Select(h => $"{h.Address}\t{h.Name}\n")));
            RewriteHosts(networks.Select(n => n.Name));
            ApplyFirewall();
        }
        catch
        {
            Release(request.Container);
            throw;
        }
        return new AttachResult(nsPath, hosts, resolv, ports);
    }

    static string? ReadHostResolvConf() => File.Exists("/etc/resolv.conf") ? File.ReadAllText("/etc/resolv.conf") : null;

    IReadOnlyList<PortMapping> ResolvePorts(AttachRequest request)
    {
        var wanted = request.Ports.ToList();
        foreach (var exposed in request.PublishAll)
        {
            var parts = exposed.Split('/');
            if (int.TryParse(parts[0], CultureInfo.InvariantCulture, out var port) && !wanted.Any(p => p.ContainerPort == port && p.Protocol == (parts.Length > 1 ? parts[1] : "tcp")))
                wanted.Add(new PortMapping { ContainerPort = port, Protocol = parts.Length > 1 ? parts[1] : "tcp" });
        }
        var taken = Store.Containers().SelectMany(c => c.Ports).Select(p => (p.HostPort, p.Protocol)).ToHashSet();
        var result = new List<PortMapping>();
        foreach (var p in wanted)
        {
            var port = p.HostPort == 0 ? FreePort(p.Protocol, taken) : p.HostPort;
            if (taken.Contains((port, p.Protocol)))
                throw new NetworkException($"host port {port}/{p.Protocol} is already published by another container");
            taken.Add((port, p.Protocol));
            result.Add(p with { HostPort = port });
        }
        return result;
    }

    /// <summary>A port the kernel calls free now (bound and let go) and no container publishes.</summary>
    static int FreePort(string protocol, HashSet<(int, string)> taken)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, protocol == "udp" ? SocketType.Dgram : SocketType.Stream, protocol == "udp" ? ProtocolType.Udp : ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Any, 0));
            var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            if (!taken.Contains((port, protocol)))
                return port;
        }
        throw new NetworkException("no free host port was found to publish on");
    }

    void Join(NetworkRecord network, string container, string containerName, string hostname, string nsPath, string interfaceName, bool defaultRoute)
    {
        // The bridge outlives its containers; it is missing only the first time, or after the host rebooted.
        if (!IpCommand.LinkExists(network.Bridge))
            EnsureBridge(network);
        var hostInterface = HostInterfaceName(container, network);
        var endpoint = Store.Write(t => Store.Allocate(t, network, container, containerName, hostname, interfaceName, hostInterface, null));
        Wire(network, endpoint, nsPath, defaultRoute);
    }

    /// <summary>An endpoint's veth pair, its address, MAC and (for the first network) the default route.</summary>
    static void Wire(NetworkRecord network, EndpointRecord endpoint, string nsPath, bool defaultRoute)
    {
        var (hostInterface, interfaceName) = (endpoint.HostInterface, endpoint.Interface);
        var prefix = IpSubnet.Parse(network.Subnet).PrefixLength;
        IpCommand.Batch(
        [
            $"link add {hostInterface} type veth peer name {interfaceName} netns {nsPath}",
            $"link set {hostInterface} master {network.Bridge} up",
        ]);
        var inside = new List<string>
        {
            $"link set {interfaceName} address {endpoint.Mac}",
            $"addr add {endpoint.Address}/{prefix} dev {interfaceName}",
            $"link set {interfaceName} up",
        };
        if (endpoint.Address6 is { } a6)
            inside.Add($"addr add {a6}/{IpSubnet.Parse(network.Subnet6!).PrefixLength} dev {interfaceName} nodad");
        if (defaultRoute)
        {
            inside.Add($"route add default via {network.Gateway} dev {interfaceName}");
            if (network.Gateway6 is { } g6)
                inside.Add($"-6 route add default via {g6} dev {interfaceName}");
        }
        IpCommand.Batch(inside, nsPath);
    }

    /// <summary>
    /// Before a stopped container starts again: when its namespace is no longer mounted (the host
    /// rebooted, or something unmounted it) it is made again with the endpoints the database keeps —
    /// the same addresses, MACs and interface names — and the firewall rewritten. A live one is left alone.
    /// </summary>
    public void Restore(string container)
    {
        var c = Store.Container(container);
        if (c?.Namespace is not { } nsPath || NamespaceFile.IsMounted(nsPath))
            return;
        NamespaceFile.Remove(nsPath);
        NamespaceFile.Create(nsPath);
        var endpoints = Store.EndpointsOfContainer(container)
            .OrderBy(e => int.TryParse(e.Interface.AsSpan(3), CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue).ToList();
        for (var i = 0; i < endpoints.Count; i++)
        {
            var network = Resolve(endpoints[i].Network);
            if (!IpCommand.LinkExists(network.Bridge))
                EnsureBridge(network);
            // A host end left by an earlier namespace (not after a reboot) would block the new pair.
            if (IpCommand.LinkExists(endpoints[i].HostInterface))
                IpCommand.Batch([$"link del {endpoints[i].HostInterface}"]);
            Wire(network, endpoints[i], nsPath, defaultRoute: i == 0);
        }
        ApplyFirewall();
    }

    /// <summary>mv + 10 hex digits of the container + the network's bridge number: unique, and under the 15 characters a name may have.</summary>
    static string HostInterfaceName(string container, NetworkRecord network) =>
        "mv" + container[..9] + network.Bridge[RulesetBuilder.BridgePrefix.Length..];

    /// <summary>`network connect`: one more veth in a container's namespace (running or not; the namespace lives as long as the container).</summary>
    public void Connect(string container, string networkName)
    {
        var c = Store.Container(container) ?? throw new NetworkException("the container has no network namespace of Moat's (its --network is none, host or container:)");
        if (c.Namespace is null)
            throw new NetworkException($"the container shares container {c.SharedWith}'s namespace: connect that one");
        var network = Resolve(networkName);
        var own = Store.EndpointsOfContainer(container);
        if (own.Any(e => e.Network == network.Name))
            throw new NetworkException($"the container is already connected to network {network.Name}");
        var first = own.FirstOrDefault();
        var name = first?.ContainerName ?? container[..12];
        var hostname = first?.Hostname ?? name;
        var index = Enumerable.Range(0, 100).First(i => !own.Any(e => e.Interface == $"eth{i}"));
        try
        {
            Join(network, container, name, hostname, c.Namespace, $"eth{index}", defaultRoute: own.Count == 0);
        }
        catch
        {
            Leave(network, container);
            throw;
        }
        RewriteHosts([network.Name]);
        ApplyFirewall();
    }

    public void Disconnect(string container, string networkName)
    {
        var network = Get(networkName);
        if (!Store.EndpointsOfContainer(container).Any(e => e.Network == network.Name))
            throw new NetworkException($"the container is not connected to network {network.Name}");
        Leave(network, container);
        RewriteHosts([network.Name], also: container);
        ApplyFirewall();
    }

    void Leave(NetworkRecord network, string container)
    {
        var hostInterface = HostInterfaceName(container, network);
        if (IpCommand.LinkExists(hostInterface))
            IpCommand.Batch([$"link del {hostInterface}"], ignoreErrors: true);
        Store.Write(t => { Store.DeleteEndpoint(t, network.Name, container); return 0; });
    }

    public IReadOnlyList<EndpointRecord> EndpointsOf(string container) => Store.EndpointsOfContainer(container);

    public ContainerNetworking? NetworkingOf(string container) => Store.Container(container);

    /// <summary>
    /// Everything of a container's networking, whatever state a crash left it in: veths, the namespace,
    /// the rows (which frees its addresses), other members' hosts files and the firewall. Absent parts are fine.
    /// </summary>
    public void Release(string container)
    {
        var networks = Store.EndpointsOfContainer(container).Select(e => e.Network).ToList();
        if (networks.Count == 0 && Store.Container(container) is null && !File.Exists(NamespacePathOf(container)))
            return;
        var records = Store.Networks().Where(n => networks.Contains(n.Name)).ToList();
        foreach (var n in Store.Networks())
        {
            var hostInterface = HostInterfaceName(container, n);
            if (IpCommand.LinkExists(hostInterface))
                IpCommand.Batch([$"link del {hostInterface}"], ignoreErrors: true);
        }
        NamespaceFile.Remove(NamespacePathOf(container));
        var had = Store.Container(container) is not null || networks.Count > 0;
        Store.Write(t => { Store.DeleteContainer(t, container); return 0; });
        if (!had)
            return;
        RewriteHosts(records.Select(r => r.Name));
        ApplyFirewall();
    }

    /// <summary>
    /// After a crash (`system prune`): releases the networking of containers the engine no longer has,
    /// namespace files no row names, and writes the bridges and the firewall back from the database.
    /// </summary>
    public IReadOnlyList<string> Sweep(Func<string, bool> containerExists)
    {
        var released = new List<string>();
        var known = Store.Containers().Select(c => c.Container).Concat(Store.Endpoints().Select(e => e.Container)).ToHashSet(StringComparer.Ordinal);
        foreach (var c in known.Where(c => !containerExists(c)))
        {
            Release(c);
            released.Add(c);
        }
        if (Directory.Exists(namespaceDirectory))
            foreach (var file in Directory.EnumerateFiles(namespaceDirectory))
                if (!containerExists(Path.GetFileName(file)))
                {
                    NamespaceFile.Remove(file);
                    if (!released.Contains(Path.GetFileName(file))) released.Add(Path.GetFileName(file));
                }
        var networks = Store.Networks();
        if (networks.Count > 0 || Nftables.List() is not null)
            ApplyFirewall();
        return released;
    }

    void RewriteHosts(IEnumerable<string> networkNames, string? also = null)
    {
        var names = networkNames.ToHashSet(StringComparer.Ordinal);
        var all = Store.Endpoints();
        var containers = Store.Containers();
        var members = all.Where(e => names.Contains(e.Network)).Select(e => e.Container);
        if (also is not null) members = members.Append(also);
        foreach (var member in members.Distinct(StringComparer.Ordinal))
        {
            var c = containers.FirstOrDefault(x => x.Container == member);
            if (c is null || !Directory.Exists(c.FilesDirectory)) continue;
            var extraPath = Path.Combine(c.FilesDirectory, "extra-hosts");
            var extra = File.Exists(extraPath)
                ? File.ReadAllLines(extraPath).Select(l => l.Split('\t')).Where(f => f.Length == 2).Select(f => (f[1], f[0])).ToList()
                : [];
            ContainerHostFiles.WriteInPlace(Path.Combine(c.FilesDirectory, ContainerHostFiles.Hosts), ContainerHostFiles.Render(member, all, extra));
        }
    }
}
