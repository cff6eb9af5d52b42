using System.CommandLine;
using Moat.Cli.Output;

namespace Moat.Cli.Commands;

/// <summary>network inspect: docker's JSON document per network.</summary>
public static class NetworkInspectCommand
{
    public static Command Create()
    {
        var names = new Argument<string[]>("NETWORK") { Arity = ArgumentArity.OneOrMore };
        var command = new Command("inspect", "show networks as JSON");
        command.Arguments.Add(names);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var networks = context.Engine.Networks;
            var found = parse.GetValue(names)!.Select(networks.Get).Select(n => (n, networks.Store.EndpointsOfNetwork(n.Name))).ToList();
            context.Out(NetworkJson.Inspect(found) + "\n");
            return 0;
        }));
        return command;
    }
}
