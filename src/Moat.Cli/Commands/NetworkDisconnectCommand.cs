using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>network disconnect: the container's interface on that network goes, and its name leaves the others' /etc/hosts.</summary>
public static class NetworkDisconnectCommand
{
    public static Command Create()
    {
        var network = new Argument<string>("NETWORK");
        var container = new Argument<string>("CONTAINER");
        var force = new Option<bool>("--force", "-f") { Description = "accepted for docker's sake" };
        var command = new Command("disconnect", "disconnect a container from a network");
        command.Arguments.Add(network);
        command.Arguments.Add(container);
        command.Options.Add(force);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var record = context.Engine.Get(parse.GetValue(container)!);
            context.Engine.Networks.Disconnect(record.Id, parse.GetValue(network)!);
            return 0;
        }));
        return command;
    }
}
