using System.CommandLine;
using Moat.Cli.Output;
using Moat.Images.Distribution;
using Moat.Images.Pull;

namespace Moat.Cli.Commands;

/// <summary>pull: fetch an image from a registry into the local store (podman pull's flags).</summary>
public static class PullCommand
{
    public static Command Create(string name = "pull")
    {
        var image = new Argument<string>("IMAGE") { Description = "the image: [REGISTRY/]NAME[:TAG|@DIGEST]" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "print only the image id" };
        var platform = new Option<string?>("--platform") { Description = "OS/ARCH[/VARIANT] to choose from a multi-platform image (default: this host's)" };
        var registry = new RegistryOptions();
        var trust = new TrustOptions();
        var command = new Command(name, "pull an image from a registry");
        command.Arguments.Add(image);
        command.Options.Add(quiet);
        command.Options.Add(platform);
        registry.AddTo(command);
        trust.AddTo(command);
        command.SetAction(parse => ImageCommandContext.Run(parse, registry, context =>
        {
            var wanted = parse.GetValue(platform) is { } text ? PlatformSpec.Parse(text) : null;
            // The policy is read before the pull, so a broken policy file stops it before any download.
            var policy = trust.Load(parse, context.Images.Registry);
            var display = parse.GetValue(quiet) ? null : new ProgressDisplay(context.Parse.InvocationConfiguration.Error, 2);
            var record = context.Images.PullAsync(parse.GetValue(image)!, wanted, (IPullProgress?)display ?? SilentProgress.Instance, ImageCommandContext.Interruptible(),
                    policy.CheckPullAsync).GetAwaiter().GetResult();
            display?.Finish();
            context.Out(record.Id.Hex + "\n");
            return 0;
        }));
        return command;
    }
}
