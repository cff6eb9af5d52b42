using System.CommandLine;
using Moat.Cli.Output;
using Moat.Images.Auth;
using Moat.Interop;

namespace Moat.Cli.Commands;

/// <summary>login: check credentials with the registry, then keep them in auth.json (podman's file and format).</summary>
public static class LoginCommand
{
    public static Command Create()
    {
        var registryArgument = new Argument<string>("REGISTRY") { Description = "HOST[:PORT] of the registry" };
        var username = new Option<string?>("--username", "-u") { Description = "user name (asked for on a terminal when not given)" };
        var password = new Option<string?>("--password", "-p") { Description = "password (prefer --password-stdin: a password on the command line is visible to every user)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "read the password from standard input" };
        var registry = new RegistryOptions();
        var command = new Command("login", "log in to a registry");
        command.Arguments.Add(registryArgument);
        command.Options.Add(username);
        command.Options.Add(password);
        command.Options.Add(passwordStdin);
        registry.AddTo(command);
        command.SetAction(parse => ImageCommandContext.Run(parse, registry, context =>
        {
            var host = RegistryHostOf(parse.GetValue(registryArgument)!);
            var user = parse.GetValue(username);
            if (string.IsNullOrEmpty(user))
            {
                if (Libc.isatty(0) != 1)
                    throw new ArgumentException("no --username, and standard input is not a terminal to ask for one");
                ImageCommandContext.Err("Username: ");
                user = Terminal.ReadLine(0);
            }
            string secret;
            if (parse.GetValue(passwordStdin))
            {
                if (parse.GetValue(password) is not null)
                    throw new ArgumentException("--password and --password-stdin cannot both be given");
                secret = Terminal.ReadLine(0);
            }
            else if (parse.GetValue(password) is { } given)
            {
                ImageCommandContext.Warn("a password on the command line can be seen by other users; use --password-stdin");
                secret = given;
            }
            else if (Libc.isatty(0) == 1)
                secret = Terminal.ReadSecret("Password: ");
            else
                throw new ArgumentException("no password: give --password-stdin (and pipe it in) or run on a terminal");
            if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(secret))
                throw new ArgumentException("a user name and a password are required");
            var credential = new RegistryCredential(user, secret);
            context.Images.Registry.CheckLoginAsync(host, credential, ImageCommandContext.Interruptible()).GetAwaiter().GetResult();
            context.Images.Credentials.Save(host, credential);
            context.Out("Login Succeeded!\n");
            return 0;
        }));
        return command;
    }

    /// <summary>`https://host:port/v2/` and `host:port/path` both mean host:port; docker.io's aliases become docker.io.</summary>
    internal static string RegistryHostOf(string text)
    {
        // The auth file's own key normalisation (schemes, URL paths, docker.io's aliases), then only the host.
        var host = CredentialStore.NormalizeKey(text).Split('/')[0];
        if (host.Length == 0)
            throw new ArgumentException($"'{text}' names no registry");
        return host;
    }
}
