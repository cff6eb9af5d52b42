using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>container cleanup ID: what a monitor runs after its container's last exit (unmount; remove for --rm). Not for people, though harmless.</summary>
public static class ContainerCleanupCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID");
        var command = new Command("cleanup", "after a container's last exit: unmount its layer, remove it if it was run with --rm (the monitor's exit command)") { Hidden = true };
        command.Arguments.Add(id);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            context.Engine.Cleanup(parse.GetValue(id)!);
            return 0;
        }));
        return command;
    }
}
