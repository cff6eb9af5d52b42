using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Moat.Images.Storage;
using Moat.Network.Addressing;

namespace Moat.Network.Store;

/// <summary>
/// Networks, endpoints and per-container networking in the engine's database (images.db; the tables are the
/// engine schema's migration 2). An address is taken by inserting its endpoint row under UNIQUE(network,
/// address) inside an IMMEDIATE transaction, so two `moat` processes never get the same one, and a removed
/// container's row going away is what frees it, across restarts.
/// </summary>
public sealed class NetworkStore : IDisposable
{
    const int BusyTimeoutSeconds = 30;
    const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";
    readonly SqliteConnection connection;

    public NetworkStore(string databasePath)
    {
        SqliteProvider.EnsureInitialized();
        connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWrite,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = BusyTimeoutSeconds,
        }.ToString());
        connection.Open();
        Execute($"PRAGMA busy_timeout = {BusyTimeoutSeconds * 1000}");
        Execute("PRAGMA synchronous = FULL");
        Moat.Images.Storage.SqliteProvider.KeepWriteAheadLog(connection);
    }

    public void Dispose() => connection.Dispose();

    void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Runs <paramref name="body"/> in one IMMEDIATE transaction (the write lock first: no lost updates between processes).</summary>
    public T Write<T>(Func<SqliteTransaction, T> body)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        var result = body(transaction);
        transaction.Commit();
        return result;
    }

    int Run(SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    SqliteCommand Command(SqliteTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    List<T> Query<T>(SqliteTransaction? transaction, string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(transaction, sql, parameters);
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read()) rows.Add(read(reader));
        return rows;
    }

    static string? Text(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    // Networks.

    const string NetworkColumns = "name, id, bridge, subnet, gateway, subnet6, gateway6, internal, labels, created";

    static NetworkRecord ReadNetwork(SqliteDataReader r) => new()
    {
        Name = r.GetString(0), Id = r.GetString(1), Bridge = r.GetString(2), Subnet = r.GetString(3), Gateway = r.GetString(4),
        Subnet6 = Text(r, 5), Gateway6 = Text(r, 6), Internal = r.GetInt64(7) != 0,
        Labels = JsonSerializer.Deserialize(r.GetString(8), NetworkJson.Default.DictionaryStringString) ?? [],
        Created = DateTimeOffset.Parse(r.GetString(9), CultureInfo.InvariantCulture),
    };

    public IReadOnlyList<NetworkRecord> Networks(SqliteTransaction? t = null) =>
        Query(t, $"SELECT {NetworkColumns} FROM networks ORDER BY created, name", ReadNetwork);

    public NetworkRecord? FindNetwork(string reference, SqliteTransaction? t = null)
    {
        var exact = Query(t, $"SELECT {NetworkColumns} FROM networks WHERE name=$r OR id=$r", ReadNetwork, ("$r", reference));
        if (exact.Count > 0) return exact[0];
        var prefix = Query(t, $"SELECT {NetworkColumns} FROM networks WHERE id LIKE $p", ReadNetwork, ("$p", reference + "%"));
        return prefix.Count == 1 ? prefix[0] : null;
    }

    public void InsertNetwork(SqliteTransaction t, NetworkRecord n) =>
        Run(t, $"INSERT INTO networks ({NetworkColumns}) VALUES ($name, $id, $bridge, $subnet, $gateway, $subnet6, $gateway6, $internal, $labels, $created)",
            ("$name", n.Name), ("$id", n.Id), ("$bridge", n.Bridge), ("$subnet", n.Subnet), ("$gateway", n.Gateway), ("$subnet6", n.Subnet6),
            ("$gateway6", n.Gateway6), ("$internal", n.Internal ? 1 : 0), ("$labels", JsonSerializer.Serialize(n.Labels, NetworkJson.Default.DictionaryStringString)),
            ("$created", n.Created.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture)));

    public void DeleteNetwork(SqliteTransaction t, string name) => Run(t, "DELETE FROM networks WHERE name=$n", ("$n", name));

    // Endpoints.

    const string EndpointColumns = "network, container, container_name, hostname, interface, host_interface, address, address6, mac";

    static EndpointRecord ReadEndpoint(SqliteDataReader r) => new()
    {
        Network = r.GetString(0), Container = r.GetString(1), ContainerName = r.GetString(2), Hostname = r.GetString(3),
        Interface = r.GetString(4), HostInterface = r.GetString(5), Address = r.GetString(6), Address6 = Text(r, 7), Mac = r.GetString(8),
    };

    public IReadOnlyList<EndpointRecord> Endpoints(SqliteTransaction? t = null) =>
        Query(t, $"SELECT {EndpointColumns} FROM network_endpoints ORDER BY network, address", ReadEndpoint);

    public IReadOnlyList<EndpointRecord> EndpointsOfNetwork(string network, SqliteTransaction? t = null) =>
        Query(t, $"SELECT {EndpointColumns} FROM network_endpoints WHERE network=$n ORDER BY address", ReadEndpoint, ("$n", network));

    public IReadOnlyList<EndpointRecord> EndpointsOfContainer(string container, SqliteTransaction? t = null) =>
        Query(t, $"SELECT {EndpointColumns} FROM network_endpoints WHERE container=$c ORDER BY interface", ReadEndpoint, ("$c", container));

    /// <summary>
    /// The lowest free host address of <paramref name="network"/> (and of its IPv6 prefix), recorded for the
    /// container in the same transaction: the UNIQUE constraint is the guarantee, the search only the choice.
    /// </summary>
    public EndpointRecord Allocate(SqliteTransaction t, NetworkRecord network, string container, string containerName, string hostname,
        string interfaceName, string hostInterface, string? wantedAddress)
    {
        var taken = Query(t, "SELECT address, address6 FROM network_endpoints WHERE network=$n", r => (r.GetString(0), Text(r, 1)), ("$n", network.Name));
        var used = taken.Select(x => x.Item1).Append(network.Gateway).ToHashSet(StringComparer.Ordinal);
        var subnet = IpSubnet.Parse(network.Subnet);
        string address;
        if (wantedAddress is not null)
        {
            if (!IPAddress.TryParse(wantedAddress, out var ip) || !subnet.Contains(ip))
                throw new NetworkException($"address {wantedAddress} is not in network {network.Name}'s subnet {network.Subnet}");
            if (used.Contains(ip.ToString()))
                throw new NetworkException($"address {wantedAddress} is already in use on network {network.Name}");
            address = ip.ToString();
        }
        else
            address = FirstFree(subnet, used) ?? throw new NetworkException($"network {network.Name} has no free address left in {network.Subnet}");
        string? address6 = null;
        if (network.Subnet6 is { } s6)
        {
            var used6 = taken.Where(x => x.Item2 is not null).Select(x => x.Item2!).Append(network.Gateway6 ?? "").ToHashSet(StringComparer.Ordinal);
            address6 = FirstFree(IpSubnet.Parse(s6), used6) ?? throw new NetworkException($"network {network.Name} has no free IPv6 address left");
        }
        var bytes = IPAddress.Parse(address).GetAddressBytes();
        // Locally administered unicast MAC derived from the address, as docker does (02:42:...): stable per address.
        var mac = string.Create(CultureInfo.InvariantCulture, $"02:42:{bytes[0]:x2}:{bytes[1]:x2}:{bytes[2]:x2}:{bytes[3]:x2}");
        var endpoint = new EndpointRecord
        {
            Network = network.Name, Container = container, ContainerName = containerName, Hostname = hostname,
            Interface = interfaceName, HostInterface = hostInterface, Address = address, Address6 = address6, Mac = mac,
        };
        Run(t, $"INSERT INTO network_endpoints ({EndpointColumns}) VALUES ($network, $container, $container_name, $hostname, $interface, $host_interface, $address, $address6, $mac)",
            ("$network", endpoint.Network), ("$container", container), ("$container_name", containerName), ("$hostname", hostname),
            ("$interface", interfaceName), ("$host_interface", hostInterface), ("$address", address), ("$address6", address6), ("$mac", mac));
        return endpoint;
    }

    static string? FirstFree(IpSubnet subnet, HashSet<string> used)
    {
        var (first, last) = subnet.HostRange;
        for (var i = first; i <= last; i++)
        {
            var candidate = subnet.At(i).ToString();
            if (!used.Contains(candidate))
                return candidate;
        }
        return null;
    }

    public void DeleteEndpoint(SqliteTransaction t, string network, string container) =>
        Run(t, "DELETE FROM network_endpoints WHERE network=$n AND container=$c", ("$n", network), ("$c", container));

    // Per-container networking.

    static ContainerNetworking ReadContainer(SqliteDataReader r) => new()
    {
        Container = r.GetString(0), Namespace = Text(r, 1), SharedWith = Text(r, 2), FilesDirectory = r.GetString(3),
        Ports = JsonSerializer.Deserialize(r.GetString(4), NetworkJson.Default.ListPortMapping) ?? [],
        Egress = Text(r, 5) is { } e ? JsonSerializer.Deserialize(e, NetworkJson.Default.ListEgressRule) : null,
    };

    public IReadOnlyList<ContainerNetworking> Containers(SqliteTransaction? t = null) =>
        Query(t, "SELECT container, namespace, shared_with, files, ports, egress FROM container_networks ORDER BY container", ReadContainer);

    public ContainerNetworking? Container(string container, SqliteTransaction? t = null) =>
        Query(t, "SELECT container, namespace, shared_with, files, ports, egress FROM container_networks WHERE container=$c", ReadContainer, ("$c", container)).FirstOrDefault();

    public void PutContainer(SqliteTransaction t, ContainerNetworking c) =>
        Run(t, "INSERT OR REPLACE INTO container_networks (container, namespace, shared_with, files, ports, egress) VALUES ($c, $ns, $shared, $files, $ports, $egress)",
            ("$c", c.Container), ("$ns", c.Namespace), ("$shared", c.SharedWith), ("$files", c.FilesDirectory),
            ("$ports", JsonSerializer.Serialize(c.Ports, NetworkJson.Default.ListPortMapping)),
            ("$egress", c.Egress is null ? null : JsonSerializer.Serialize(c.Egress, NetworkJson.Default.ListEgressRule)));

    public void DeleteContainer(SqliteTransaction t, string container)
    {
        Run(t, "DELETE FROM network_endpoints WHERE container=$c", ("$c", container));
        Run(t, "DELETE FROM container_networks WHERE container=$c", ("$c", container));
    }
}
