using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>network prune: every network no container is attached to (not the default one).</summary>
public static class NetworkPruneCommand
{
    public static Command Create()
    {
        var force = new Option<bool>("--force", "-f") { Description = "do not ask (moat never asks)" };
        var command = new Command("prune", "remove networks no container uses");
        command.Options.Add(force);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var removed = context.Engine.Networks.Prune();
            if (removed.Count > 0)
                context.Out("Deleted Networks:\n" + string.Concat(removed.Select(n => n + "\n")));
            return 0;
        }));
        return command;
    }
}
