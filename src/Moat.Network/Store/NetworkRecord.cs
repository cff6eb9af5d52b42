namespace Moat.Network.Store;

/// <summary>A network as the database keeps it.</summary>
public sealed record NetworkRecord
{
    /// <summary>The default network every container without --network joins.</summary>
    public const string DefaultName = "bridge";

    public required string Name { get; init; }
    /// <summary>64 hex digits, as docker's network ids.</summary>
    public required string Id { get; init; }
    /// <summary>The host's bridge interface (moat0, moat1...): every container's veth is its port.</summary>
    public required string Bridge { get; init; }
    public required string Subnet { get; init; }
    public required string Gateway { get; init; }
    public string? Subnet6 { get; init; }
    public string? Gateway6 { get; init; }
    /// <summary>--internal: no traffic leaves the bridge (no masquerade, forward dropped both ways).</summary>
    public bool Internal { get; init; }
    public Dictionary<string, string> Labels { get; init; } = [];
    public required DateTimeOffset Created { get; init; }
}

/// <summary>One container's place on one network: its address there and the veth that carries it.</summary>
public sealed record EndpointRecord
{
    public required string Network { get; init; }
    public required string Container { get; init; }
    /// <summary>The container's name and hostname: the lines other members' /etc/hosts get.</summary>
    public required string ContainerName { get; init; }
    public required string Hostname { get; init; }
    /// <summary>Inside the container: eth0, eth1...</summary>
    public required string Interface { get; init; }
    /// <summary>The host's end of the veth, in the network's bridge.</summary>
    public required string HostInterface { get; init; }
    public required string Address { get; init; }
    public string? Address6 { get; init; }
    public required string Mac { get; init; }
}

/// <summary>What a container's network namespace carries besides its endpoints: where it lives, its files, ports and egress policy.</summary>
public sealed record ContainerNetworking
{
    public required string Container { get; init; }
    /// <summary>The bind-mounted namespace file under the runtime root; null when the container joined another's (container:NAME).</summary>
    public string? Namespace { get; init; }
    /// <summary>The container whose namespace this one shares, for container:NAME.</summary>
    public string? SharedWith { get; init; }
    /// <summary>The directory holding its hosts and resolv.conf (bind-mounted into the container).</summary>
    public required string FilesDirectory { get; init; }
    public List<PortMapping> Ports { get; init; } = [];
    /// <summary>null: every destination; otherwise only these (empty: none).</summary>
    public List<EgressRule>? Egress { get; init; }
}
