using System.CommandLine;
using Moat.Network;

namespace Moat.Cli.Commands;

/// <summary>network create: a bridge network with its subnet, gateway and firewall rules; prints its id.</summary>
public static class NetworkCreateCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME");
        var subnet = new Option<string?>("--subnet") { Description = "IPv4 prefix (10.91.5.0/24); default: a free /24 of 10.91.0.0/16" };
        var gateway = new Option<string?>("--gateway") { Description = "the host's address on the bridge (default: the first of the subnet)" };
        var isInternal = new Option<bool>("--internal") { Description = "no traffic to or from outside the network" };
        var ipv6 = new Option<bool>("--ipv6") { Description = "also an IPv6 prefix (a ULA /64 unless --subnet6)" };
        var subnet6 = new Option<string?>("--subnet6") { Description = "IPv6 prefix (implies --ipv6)" };
        var labels = new Option<string[]>("--label") { Description = "a label KEY=VALUE" };
        var driver = new Option<string?>("--driver", "-d") { Description = "bridge (the only driver)" };
        var command = new Command("create", "create a network");
        command.Arguments.Add(name);
        foreach (var o in new Option[] { subnet, gateway, isInternal, ipv6, subnet6, labels, driver })
            command.Options.Add(o);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            if (parse.GetValue(driver) is { } d && d != "bridge")
                throw new NetworkException($"network driver \"{d}\" is not known: Moat has bridge only");
            var record = context.Engine.Networks.Create(new NetworkCreateOptions
            {
                Name = parse.GetValue(name)!,
                Subnet = parse.GetValue(subnet),
                Gateway = parse.GetValue(gateway),
                Internal = parse.GetValue(isInternal),
                IPv6 = parse.GetValue(ipv6),
                Subnet6 = parse.GetValue(subnet6),
                Labels = (parse.GetValue(labels) ?? []).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal),
            });
            context.Out(record.Id + "\n");
            return 0;
        }));
        return command;
    }
}
