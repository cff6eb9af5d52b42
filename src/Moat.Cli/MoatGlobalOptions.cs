using System.CommandLine;

namespace Moat.Cli;

/// <summary>Options every `moat` command takes (podman's names).</summary>
public static class MoatGlobalOptions
{
    public static readonly Option<string?> Root = new("--root")
    {
        Description = "where images and containers are stored (default /var/lib/moat for root, $XDG_DATA_HOME/moat otherwise)",
        Recursive = true,
    };

    public static readonly Option<string?> RegistriesConf = new("--registries-conf")
    {
        Description = "registries.conf to use instead of /etc/containers/registries.conf",
        Recursive = true,
    };
}

/// <summary>The options of the commands that talk to a registry (pull, push, login, search).</summary>
public sealed class RegistryOptions
{
    public readonly Option<bool?> TlsVerify = new("--tls-verify") { Description = "verify the registry's TLS certificate (default: yes, unless registries.conf marks it insecure)", Arity = ArgumentArity.ZeroOrOne };
    public readonly Option<string?> AuthFile = new("--authfile") { Description = "credentials file (default ${XDG_RUNTIME_DIR}/containers/auth.json)" };
    public readonly Option<string?> CertDir = new("--cert-dir") { Description = "a directory of CA certificates (*.crt) and a client certificate (*.cert, *.key)" };
    public readonly Option<string?> Creds = new("--creds") { Description = "USERNAME[:PASSWORD] for this call" };

    public void AddTo(Command command, bool credentials = true)
    {
        command.Options.Add(TlsVerify);
        command.Options.Add(CertDir);
        if (!credentials) return;
        command.Options.Add(AuthFile);
        command.Options.Add(Creds);
    }
}
