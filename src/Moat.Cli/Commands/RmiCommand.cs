using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>rmi (image rm): remove names and images, docker's rules (see ImageService.Remove).</summary>
public static class RmiCommand
{
    public static Command Create(string name = "rmi")
    {
        var images = new Argument<string[]>("IMAGE") { Description = "names or ids", Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "remove an image with several names, or untag one that containers use" };
        var command = new Command(name, "remove images");
        command.Arguments.Add(images);
        command.Options.Add(force);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var status = 0;
            foreach (var image in parse.GetValue(images)!)
            {
                // One failure does not stop the others; the exit status says something failed (docker does so).
                try
                {
                    foreach (var line in context.Images.Remove(image, parse.GetValue(force)))
                        context.Out(line + "\n");
                }
                catch (Exception e)
                {
                    ImageCommandContext.Report(e);
                    status = 1;
                }
            }
            return status;
        }));
        return command;
    }
}
