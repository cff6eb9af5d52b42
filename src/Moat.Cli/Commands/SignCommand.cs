using System.CommandLine;
using Moat.Trust.Cosign;

namespace Moat.Cli.Commands;

/// <summary>sign: a cosign key-based signature of an image in its registry (cosign sign --key, without the transparency log).</summary>
public static class SignCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "REGISTRY/NAME[:TAG|@DIGEST]; the digest it names now is signed" };
        var key = new Option<string>("--key") { Description = "the cosign private key (cosign.key)", Required = true };
        var annotations = AnnotationOption.Create("KEY=VALUE to write into the signature's optional section");
        var registry = new RegistryOptions();
        var command = new Command("sign", "sign an image with a cosign key; the signature is pushed to the image's repository (tag sha256-HEX.sig)");
        command.Arguments.Add(image);
        command.Options.Add(key);
        command.Options.Add(annotations);
        registry.AddTo(command);
        command.SetAction(parse => ImageCommandContext.Run(parse, registry, context =>
        {
            var given = AnnotationOption.Parse(parse.GetValue(annotations));
            using var privateKey = CosignKeys.LoadPrivateKey(parse.GetValue(key)!, CosignPassword.ForReading());
            var images = context.Images;
            var operations = new CosignOperations(images.Registry, images.Registry.Options.Registries);
            var cancellation = ImageCommandContext.Interruptible();
            var subject = operations.ResolveAsync(parse.GetValue(image)!, cancellation).GetAwaiter().GetResult();
            if (subject.Reference.Digest is null)
                ImageCommandContext.Err($"WARNING: Image reference {subject.Reference.FullName} uses a tag, not a digest, to identify the image to sign; signing {subject.Digest}");
            ImageCommandContext.Err($"Pushing signature to: {subject.SignatureRepository}");
            var (_, added) = operations.SignAsync(subject, privateKey, given, cancellation).GetAwaiter().GetResult();
            if (!added)
                ImageCommandContext.Err("The same signature was already there: nothing was added");
            return 0;
        }));
        return command;
    }
}
