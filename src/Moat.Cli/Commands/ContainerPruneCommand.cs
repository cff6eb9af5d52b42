using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>container prune: every container that is not running (created, exited, dead).</summary>
public static class ContainerPruneCommand
{
    public static Command Create()
    {
        var force = new Option<bool>("--force", "-f") { Description = "do not ask (moat never asks; accepted for docker's scripts)" };
        var command = new Command("prune", "remove all stopped containers");
        command.Options.Add(force);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var removed = context.Engine.Prune();
            if (removed.Count > 0)
                context.Out("Deleted Containers:\n" + string.Concat(removed.Select(id => id + "\n")));
            context.Out($"Total reclaimed containers: {removed.Count}\n");
            return 0;
        }));
        return command;
    }
}
