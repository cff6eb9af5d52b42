using System.CommandLine;
using Moat.Cli.Output;

namespace Moat.Cli.Commands;

/// <summary>system df: what the store takes on disk; blobs shared between images are counted once.</summary>
public static class SystemDfCommand
{
    public static Command Create()
    {
        var verbose = new Option<bool>("--verbose", "-v") { Description = "one line per image, with its shared and unique sizes" };
        var command = new Command("df", "show the disk space images use");
        command.Options.Add(verbose);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var usage = context.Images.DiskUsage();
            var table = new Table("TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
            var percent = usage.ImageBytes == 0 ? 0 : usage.ReclaimableBytes * 100 / Math.Max(1, usage.TotalBytes);
            table.Add("Images", usage.Images.Count.ToString(), usage.ActiveImages.ToString(), Units.HumanSize(usage.TotalBytes), $"{Units.HumanSize(usage.ReclaimableBytes)} ({percent}%)");
            context.Out(table.ToString());
            if (parse.GetValue(verbose))
            {
                var now = DateTimeOffset.UtcNow;
                var images = new Table("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS");
                foreach (var image in usage.Images)
                {
                    var name = image.Image.Names.FirstOrDefault();
                    var colon = name?.LastIndexOf(':') ?? -1;
                    images.Add(name is null ? "<none>" : name[..colon], name is null ? "<none>" : name[(colon + 1)..], image.Image.Id.Short,
                        Units.Ago(image.Image.Created, now), Units.HumanSize(image.Size), Units.HumanSize(image.SharedSize), Units.HumanSize(image.UniqueSize), image.Containers.ToString());
                }
                context.Out("\nImages space usage:\n\n" + images);
            }
            return 0;
        }));
        return command;
    }
}
