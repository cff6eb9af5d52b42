using System.CommandLine;

namespace Moat.Cli.Commands;

/// <summary>logout: forget a registry's credentials (or all, with -a) from auth.json.</summary>
public static class LogoutCommand
{
    public static Command Create()
    {
        var registryArgument = new Argument<string?>("REGISTRY") { Description = "HOST[:PORT] of the registry", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all", "-a") { Description = "forget every registry's credentials" };
        var authFile = new Option<string?>("--authfile") { Description = "credentials file (default ${XDG_RUNTIME_DIR}/containers/auth.json)" };
        var command = new Command("logout", "log out of a registry");
        command.Arguments.Add(registryArgument);
        command.Options.Add(all);
        command.Options.Add(authFile);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            var store = new Moat.Images.Auth.CredentialStore(parse.GetValue(authFile));
            if (parse.GetValue(all))
            {
                store.RemoveAll();
                context.Out("Removed login credentials for all registries\n");
                return 0;
            }
            var host = LoginCommand.RegistryHostOf(parse.GetValue(registryArgument) ?? throw new ArgumentException("name the registry to log out of, or use --all"));
            if (!store.Remove(host))
                throw new ArgumentException($"not logged into {host} (no credentials for it in {store.PrimaryPath})");
            context.Out($"Removed login credentials for {host}\n");
            return 0;
        }));
        return command;
    }
}
