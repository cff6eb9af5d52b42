using System.CommandLine;
using Moat.Cli.Output;
using Moat.Images.Pull;

namespace Moat.Cli.Commands;

/// <summary>push: send a stored image to a registry (podman push's flags).</summary>
public static class PushCommand
{
    public static Command Create(string name = "push")
    {
        var source = new Argument<string>("IMAGE") { Description = "the stored image (name or id)" };
        var destination = new Argument<string?>("DESTINATION") { Description = "REGISTRY/NAME[:TAG] (default: the image's own name)", Arity = ArgumentArity.ZeroOrOne };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print nothing but errors" };
        var digestFile = new Option<string?>("--digestfile") { Description = "write the pushed manifest's digest to this file" };
        var registry = new RegistryOptions();
        var command = new Command(name, "push an image to a registry");
        command.Arguments.Add(source);
        command.Arguments.Add(destination);
        command.Options.Add(quiet);
        command.Options.Add(digestFile);
        registry.AddTo(command);
        command.SetAction(parse => ImageCommandContext.Run(parse, registry, context =>
        {
            var display = parse.GetValue(quiet) ? null : new ProgressDisplay(context.Parse.InvocationConfiguration.Error, 2);
            var digest = context.Images.PushAsync(parse.GetValue(source)!, parse.GetValue(destination), (IPullProgress?)display ?? SilentProgress.Instance, ImageCommandContext.Interruptible())
                .GetAwaiter().GetResult();
            display?.Finish();
            if (parse.GetValue(digestFile) is { } file)
                File.WriteAllText(file, digest.ToString());
            return 0;
        }));
        return command;
    }
}
