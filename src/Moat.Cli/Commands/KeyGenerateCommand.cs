using System.CommandLine;
using Moat.Trust.Cosign;

namespace Moat.Cli.Commands;

/// <summary>key generate: a cosign key pair (cosign generate-key-pair): PREFIX.key encrypted with the password, PREFIX.pub.</summary>
public static class KeyGenerateCommand
{
    public static Command Create()
    {
        var prefix = new Option<string>("--output-key-prefix") { Description = "write PREFIX.key and PREFIX.pub", DefaultValueFactory = _ => "cosign" };
        var force = new Option<bool>("--force", "-f") { Description = "overwrite existing key files" };
        var command = new Command("generate", "generate a cosign key pair (ECDSA P-256; the private key encrypted with $COSIGN_PASSWORD or a prompt)");
        command.Options.Add(prefix);
        command.Options.Add(force);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, _ =>
        {
            var privatePath = parse.GetValue(prefix) + ".key";
            var publicPath = parse.GetValue(prefix) + ".pub";
            if (!parse.GetValue(force))
                foreach (var path in new[] { privatePath, publicPath })
                    if (File.Exists(path))
                        throw new IOException($"{path} exists: remove it or use --force");
            var pair = CosignKeys.Generate(CosignPassword.ForNewKey());
            // 0600: the key is only as safe as its password; the public key is for everyone.
            KeyFileWriter.Write(privatePath, pair.PrivatePem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            KeyFileWriter.Write(publicPath, pair.PublicPem, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            ImageCommandContext.Err($"Private key written to {privatePath}");
            ImageCommandContext.Err($"Public key written to {publicPath}");
            return 0;
        }));
        return command;
    }
}
