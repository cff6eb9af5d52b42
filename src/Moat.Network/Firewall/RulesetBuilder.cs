using System.Text;
using Moat.Network.Store;

namespace Moat.Network.Firewall;

/// <summary>
/// Moat's whole nftables table (`inet moat`) computed from the database: what exists there is exactly
/// what the store holds, so a network's rules appear with it, go with it, and `system prune` after a crash
/// puts the table back in line by writing it again. Bridges are all named moat*, which lets one wildcard
/// rule tell "towards another Moat network" from "towards the world".
/// </summary>
public static class RulesetBuilder
{
    public const string Table = "moat";
    public const string BridgePrefix = "moat";

    public static string Build(IReadOnlyList<NetworkRecord> networks, IReadOnlyList<EndpointRecord> endpoints, IReadOnlyList<ContainerNetworking> containers)
    {
        var filter = new StringBuilder();
        var input = new StringBuilder();
        var chains = new StringBuilder();
        var dnat = new StringBuilder();
        var postrouting = new StringBuilder();
        var any = $"\"{BridgePrefix}*\"";

        // Egress policies: new connections from the container's addresses leaving its bridge (forward) or to the host itself (input).
        foreach (var c in containers.Where(c => c.Egress is not null))
        {
            var own = endpoints.Where(e => e.Container == c.Container).ToList();
            if (own.Count == 0) continue;
            var chain = "egress_" + c.Container[..12];
            chains.Append($"  chain {chain} {{\n");
            foreach (var rule in c.Egress!)
            {
                var family = rule.IsV6 ? "ip6" : "ip";
                chains.Append(rule.Port == 0
                    ? $"    {family} daddr {rule.Cidr} accept\n"
                    : $"    {family} daddr {rule.Cidr} meta l4proto {{ tcp, udp }} th dport {rule.Port} accept\n");
            }
            chains.Append("    counter drop\n  }\n");
            foreach (var e in own)
            {
                var network = networks.FirstOrDefault(n => n.Name == e.Network);
                if (network is null) continue;
                filter.Append($"    iifname \"{network.Bridge}\" ip saddr {e.Address} jump {chain}\n");
                input.Append($"    iifname \"{network.Bridge}\" ip saddr {e.Address} jump {chain}\n");
                if (e.Address6 is { } a6)
                {
                    filter.Append($"    iifname \"{network.Bridge}\" ip6 saddr {a6} jump {chain}\n");
                    input.Append($"    iifname \"{network.Bridge}\" ip6 saddr {a6} jump {chain}\n");
                }
            }
        }
        foreach (var n in networks.Where(n => n.Internal))
        {
            filter.Append($"    iifname \"{n.Bridge}\" oifname != \"{n.Bridge}\" drop\n");
            filter.Append($"    oifname \"{n.Bridge}\" iifname != \"{n.Bridge}\" drop\n");
        }
        // Published ports are reachable from other networks (through the host, as docker has it); nothing else is.
        filter.Append("    ct status dnat accept\n");
        foreach (var n in networks)
            filter.Append($"    iifname \"{n.Bridge}\" oifname {any} oifname != \"{n.Bridge}\" drop\n");

        foreach (var c in containers)
        {
            var first = endpoints.Where(e => e.Container == (c.SharedWith ?? c.Container)).OrderBy(e => e.Interface, StringComparer.Ordinal).FirstOrDefault();
            if (first is null) continue;
            foreach (var p in c.Ports)
            {
                var match = p.HostIp == "0.0.0.0" ? "fib daddr type local" : $"ip daddr {p.HostIp}";
                dnat.Append($"    {match} {p.Protocol} dport {p.HostPort} dnat ip to {first.Address}:{p.ContainerPort}\n");
            }
        }
        foreach (var n in networks)
        {
            if (!n.Internal)
            {
                postrouting.Append($"    ip saddr {n.Subnet} oifname != {any} masquerade\n");
                if (n.Subnet6 is { } s6)
                    postrouting.Append($"    ip6 saddr {s6} oifname != {any} masquerade\n");
            }
            // Hairpin: a member reaching a published port of its own network must get the answer back through the host.
            postrouting.Append($"    oifname \"{n.Bridge}\" ip saddr {n.Subnet} ip daddr {n.Subnet} ct status dnat masquerade\n");
        }
        // From the host's loopback (route_localnet on the bridges lets 127.0.0.1 be routed there at all).
        postrouting.Append($"    oifname {any} ip saddr 127.0.0.0/8 masquerade\n");

        var script = new StringBuilder();
        script.Append($"add table inet {Table}\ndelete table inet {Table}\n");
        if (networks.Count == 0)
            return script.ToString();
        script.Append($"table inet {Table} {{\n");
        script.Append("  chain forward {\n    type filter hook forward priority filter; policy accept;\n    ct state established,related accept\n").Append(filter).Append("  }\n");
        script.Append("  chain input {\n    type filter hook input priority filter; policy accept;\n    ct state established,related accept\n").Append(input).Append("  }\n");
        script.Append(chains);
        script.Append("  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n").Append(dnat).Append("  }\n");
        script.Append("  chain output {\n    type nat hook output priority -100; policy accept;\n").Append(dnat).Append("  }\n");
        script.Append("  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n").Append(postrouting).Append("  }\n");
        script.Append("}\n");
        return script.ToString();
    }
}
