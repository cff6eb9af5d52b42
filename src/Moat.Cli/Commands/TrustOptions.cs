using System.CommandLine;
using Moat.Images.Distribution;
using Moat.Trust.Policy;

namespace Moat.Cli.Commands;

/// <summary>`--signature-policy FILE` and `--registries.d DIR`, as podman and skopeo name them: which trust policy and which lookaside configuration.</summary>
sealed class TrustOptions
{
    public readonly Option<string?> SignaturePolicy = new("--signature-policy") { Description = "the trust policy (default: $HOME/.config/containers/policy.json, else /etc/containers/policy.json)" };
    public readonly Option<string?> RegistriesDirectory = new("--registries.d") { Description = "the lookaside configuration directory (default: $HOME/.config/containers/registries.d, else /etc/containers/registries.d)" };

    public void AddTo(Command command)
    {
        command.Options.Add(SignaturePolicy);
        command.Options.Add(RegistriesDirectory);
    }

    public ImageTrust Load(ParseResult parse, RegistryClient registry) =>
        ImageTrust.Load(registry, parse.GetValue(SignaturePolicy), parse.GetValue(RegistriesDirectory));
}
