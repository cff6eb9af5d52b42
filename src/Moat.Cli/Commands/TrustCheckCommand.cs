using System.CommandLine;
using Moat.Images.References;

namespace Moat.Cli.Commands;

/// <summary>trust check: asks the trust policy about an image in its registry without pulling it (what `pull` and `run` would decide).</summary>
public static class TrustCheckCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "REGISTRY/NAME[:TAG|@DIGEST]" };
        var trust = new TrustOptions();
        var registry = new RegistryOptions();
        var command = new Command("check", "check an image in its registry against the trust policy, without pulling it");
        command.Arguments.Add(image);
        trust.AddTo(command);
        registry.AddTo(command);
        command.SetAction(parse => ImageCommandContext.Run(parse, registry, context =>
        {
            var registryClient = context.Images.Registry;
            var policy = trust.Load(parse, registryClient);
            var cancellation = ImageCommandContext.Interruptible();
            var reference = ImageReference.Parse(parse.GetValue(image)!);
            var manifest = registryClient.GetManifestAsync(reference, cancellation).GetAwaiter().GetResult();
            if (policy.Policy is null)
            {
                context.Out($"{reference.FullName}: accepted (no trust policy file exists)\n");
                return 0;
            }
            var qualified = registryClient.Options.Registries.ExpandShortName(reference)[0];
            var scope = policy.Policy.Select(qualified).Scope;
            policy.CheckAsync(qualified, manifest.Digest, manifest.Source, cancellation).GetAwaiter().GetResult();
            context.Out($"{qualified.FullName} ({manifest.Digest}): accepted by {policy.Policy.Source}, {scope}\n");
            return 0;
        }));
        return command;
    }
}
