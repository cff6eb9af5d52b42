using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>network connect: one more interface for a container, in that network; every member's /etc/hosts learns its name.</summary>
public static class NetworkConnectCommand
{
    public static Command Create()
    {
        var network = new Argument<string>("NETWORK");
        var container = new Argument<string>("CONTAINER");
        var command = new Command("connect", "connect a container to a network");
        command.Arguments.Add(network);
        command.Arguments.Add(container);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var record = context.Engine.Get(parse.GetValue(container)!);
            context.Engine.Networks.Connect(record.Id, parse.GetValue(network)!);
            return 0;
        }));
        return command;
    }
}
