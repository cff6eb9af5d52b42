using System.CommandLine;
using Moat.Cli.Output;

namespace Moat.Cli.Commands;

/// <summary>network ls: a table of networks (-q: names only... docker prints ids; so do we).</summary>
public static class NetworkLsCommand
{
    public static Command Create()
    {
        var quiet = new Option<bool>("--quiet", "-q") { Description = "only ids" };
        var command = new Command("ls", "list networks");
        command.Aliases.Add("list");
        command.Options.Add(quiet);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var networks = context.Engine.Networks.List();
            if (parse.GetValue(quiet))
            {
                context.Out(string.Concat(networks.Select(n => n.Id[..12] + "\n")));
                return 0;
            }
            var table = new Table("NETWORK ID", "NAME", "DRIVER", "SUBNET", "INTERNAL");
            foreach (var n in networks)
                table.Add(n.Id[..12], n.Name, "bridge", n.Subnet6 is null ? n.Subnet : $"{n.Subnet},{n.Subnet6}", n.Internal ? "true" : "false");
            context.Out(table.ToString());
            return 0;
        }));
        return command;
    }
}
