using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Moat.Trust.Cosign;

namespace Moat.Cli.Commands;

/// <summary>
/// verify: checks an image's cosign signatures with a public key (cosign verify --key, without the
/// transparency log) and prints what cosign prints: the checks on stderr, the verified payloads as JSON on stdout.
/// </summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("IMAGE") { Description = "REGISTRY/NAME[:TAG|@DIGEST]" };
        var key = new Option<string>("--key") { Description = "the cosign public key (cosign.pub)", Required = true };
        var annotations = AnnotationOption.Create("KEY=VALUE each verified signature must carry");
        var output = new Option<string>("--output", "-o") { Description = "json (default: an array of the payloads) or text (one payload a line)", DefaultValueFactory = _ => "json" };
        var registry = new RegistryOptions();
        var command = new Command("verify", "verify an image's cosign signatures with a public key");
        command.Arguments.Add(image);
        command.Options.Add(key);
        command.Options.Add(annotations);
        command.Options.Add(output);
        registry.AddTo(command);
        command.SetAction(parse => ImageCommandContext.Run(parse, registry, context =>
        {
            var wanted = AnnotationOption.Parse(parse.GetValue(annotations));
            using var publicKey = CosignKeys.LoadPublicKey(parse.GetValue(key)!);
            var images = context.Images;
            var operations = new CosignOperations(images.Registry, images.Registry.Options.Registries);
            var cancellation = ImageCommandContext.Interruptible();
            var text = parse.GetValue(image)!;
            var subject = operations.ResolveAsync(text, cancellation).GetAwaiter().GetResult();
            var result = operations.VerifyAsync(subject, new List<ECDsa> { publicKey }, wanted, cancellation).GetAwaiter().GetResult();
            if (result.Verified.Count == 0)
                throw new CryptographicException($"no matching signatures for {subject.Reference.FullName}: {result.Explain()}");
            ImageCommandContext.Err("");
            ImageCommandContext.Err($"Verification for {text} --");
            ImageCommandContext.Err("The following checks were performed on each of these signatures:");
            if (wanted.Count > 0) ImageCommandContext.Err("  - The specified annotations were verified.");
            ImageCommandContext.Err("  - The cosign claims were validated");
            ImageCommandContext.Err("  - The signatures were verified against the specified public key");
            ImageCommandContext.Err("");
            if (parse.GetValue(output) == "text")
                foreach (var signature in result.Verified)
                    context.Out(Encoding.UTF8.GetString(signature.PayloadBytes) + "\n");
            else
                context.Out("[" + string.Join(",", result.Verified.Select(s => Encoding.UTF8.GetString(s.PayloadBytes))) + "]\n");
            return 0;
        }));
        return command;
    }
}
