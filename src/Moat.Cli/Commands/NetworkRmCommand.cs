using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>network rm: the network, its bridge and its firewall rules; refused while containers are attached.</summary>
public static class NetworkRmCommand
{
    public static Command Create()
    {
        var names = new Argument<string[]>("NETWORK") { Arity = ArgumentArity.OneOrMore };
        var command = new Command("rm", "remove networks");
        command.Aliases.Add("remove");
        command.Arguments.Add(names);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
            context.ForEach(parse.GetValue(names)!, name =>
            {
                context.Engine.Networks.Remove(name);
                return name;
            })));
        return command;
    }
}
