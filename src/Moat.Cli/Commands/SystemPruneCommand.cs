using System.CommandLine;
using Moat.Cli.Output;

namespace Moat.Cli.Commands;

/// <summary>system prune: stopped containers (and what crashes left), dangling images (-a: unused ones), unused volumes with --volumes.</summary>
public static class SystemPruneCommand
{
    public static Command Create()
    {
        var all = new Option<bool>("--all", "-a") { Description = "every image no container uses, not only dangling ones" };
        var volumes = new Option<bool>("--volumes") { Description = "also volumes no container uses" };
        var force = new Option<bool>("--force", "-f") { Description = "do not ask (moat never asks)" };
        var command = new Command("prune", "remove stopped containers, dangling images and (with --volumes) unused volumes");
        command.Options.Add(all);
        command.Options.Add(volumes);
        command.Options.Add(force);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var containers = context.Engine.Prune();
            if (containers.Count > 0)
                context.Out("Deleted Containers:\n" + string.Concat(containers.Select(id => id + "\n")) + "\n");
            if (parse.GetValue(volumes))
            {
                var removed = context.Engine.PruneVolumes(anonymousOnly: false);
                if (removed.Count > 0)
                    context.Out("Deleted Volumes:\n" + string.Concat(removed.Select(v => v + "\n")) + "\n");
            }
            var (images, freed) = context.Engine.Images.Prune(parse.GetValue(all));
            if (images.Count > 0)
                context.Out("Deleted Images:\n" + string.Concat(images.Select(i => "deleted: " + i + "\n")) + "\n");
            context.Out($"Total reclaimed space: {Units.HumanSize(freed)}\n");
            return 0;
        }));
        return command;
    }
}
