using System.CommandLine;
using Moat.Cli.Output;

namespace Moat.Cli.Commands;

/// <summary>image prune: remove dangling images (or, with -a, every image no container uses) and what only they held.</summary>
public static class ImagePruneCommand
{
    public static Command Create()
    {
        var all = new Option<bool>("--all", "-a") { Description = "every image no container uses, not only dangling ones" };
        var force = new Option<bool>("--force", "-f") { Description = "do not ask for confirmation" };
        var command = new Command("prune", "remove unused images");
        command.Options.Add(all);
        command.Options.Add(force);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            if (!parse.GetValue(force))
            {
                if (Moat.Interop.Libc.isatty(0) != 1)
                    throw new ArgumentException("image prune asks for confirmation, and standard input is not a terminal: use --force");
                var what = parse.GetValue(all) ? "all images without at least one container associated to them" : "all dangling images";
                context.Out($"WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] ");
                context.Output.Flush();
                if (Terminal.ReadLine(0).Trim().ToLowerInvariant() is not ("y" or "yes"))
                    return 0;
            }
            var (images, freed) = context.Images.Prune(parse.GetValue(all));
            if (images.Count > 0)
            {
                context.Out("Deleted Images:\n");
                foreach (var id in images)
                    context.Out("deleted: " + id + "\n");
                context.Out("\n");
            }
            context.Out($"Total reclaimed space: {Units.HumanSize(freed)}\n");
            return 0;
        }));
        return command;
    }
}
