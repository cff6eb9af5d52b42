using System.CommandLine;
using Moat.Cli.Commands;

namespace Moat.Cli;

/// <summary>
/// The `moat` command tree: the command people use (docker's and podman's verbs). Building a command
/// allocates its options (run's ~80 among them), so only the verb being run is built (and for a noun such
/// as `container`, only its verb); the whole tree only when no known verb is named (help, a typo).
/// </summary>
public static class MoatCommandLine
{
    static readonly (string Name, Func<string?, Command> Create)[] Verbs =
    [
        ("version", _ => VersionCommand.Create()),
        ("info", _ => InfoCommand.Create()),
        ("pull", _ => PullCommand.Create()),
        ("push", _ => PushCommand.Create()),
        ("images", _ => ImagesCommand.Create()),
        ("rmi", _ => RmiCommand.Create()),
        ("tag", _ => TagCommand.Create()),
        ("save", _ => SaveCommand.Create()),
        ("load", _ => LoadCommand.Create()),
        ("import", _ => ImportCommand.Create()),
        ("login", _ => LoginCommand.Create()),
        ("logout", _ => LogoutCommand.Create()),
        ("sbom", _ => SbomCommand.Create()),
        ("scan", _ => ScanCommand.Create()),
        ("run", _ => RunCommand.Create()),
        ("create", _ => CreateCommand.Create()),
        ("start", _ => StartCommand.Create()),
        ("stop", _ => StopCommand.Create()),
        ("restart", _ => RestartCommand.Create()),
        ("kill", _ => KillCommand.Create()),
        ("rm", _ => RmCommand.Create()),
        ("ps", _ => PsCommand.Create()),
        ("inspect", _ => InspectCommand.Create()),
        ("exec", _ => ExecCommand.Create()),
        ("logs", _ => LogsCommand.Create()),
        ("top", _ => TopCommand.Create()),
        ("port", _ => PortCommand.Create()),
        ("update", _ => UpdateCommand.Create()),
        ("stats", _ => StatsCommand.Create()),
        ("cp", _ => CpCommand.Create()),
        ("events", _ => EventsCommand.Create()),
        ("wait", _ => WaitCommand.Create()),
        ("pause", _ => PauseCommand.Create()),
        ("unpause", _ => UnpauseCommand.Create()),
        ("rename", _ => RenameCommand.Create()),
        ("container", ContainerCommand),
        ("image", ImageCommand),
        ("system", SystemCommand),
        ("network", NetworkCommand),
        ("audit", _ => AuditCommand.Create()),
        ("seccomp", SeccompCommand),
        ("sign", _ => SignCommand.Create()),
        ("verify", _ => VerifyCommand.Create()),
        ("key", KeyCommand),
        ("trust", TrustCommand),
    ];

    /// <summary>The whole tree.</summary>
    public static RootCommand Build() => Build([]);

    /// <summary>The tree <paramref name="args"/> need: the named verb only, or everything when none is recognised.</summary>
    public static RootCommand Build(string[] args)
    {
        var root = new RootCommand("moat: run containers at three strengths (container, sandbox, vm); the OCI runtime is moat-runtime");
        root.Options.Add(MoatGlobalOptions.Root);
        root.Options.Add(MoatGlobalOptions.RegistriesConf);
        var (verb, sub) = VerbOf(args);
        var known = verb is not null && Array.Exists(Verbs, v => v.Name == verb);
        foreach (var (name, create) in Verbs)
            if (!known || name == verb)
                root.Subcommands.Add(create(known ? sub : null));
        return root;
    }

    /// <summary>The first two words that are not options (global options before the verb skip their value).</summary>
    static (string? Verb, string? Sub) VerbOf(string[] args)
    {
        var words = new List<string>(2);
        for (var i = 0; i < args.Length && words.Count < 2; i++)
        {
            var token = args[i];
            if (token == "--")
                break;
            if (token.StartsWith('-'))
            {
                // Help anywhere lists what is there: build it all for the root's help, the verb's own otherwise.
                if (words.Count == 0 && token is "--root" or "--registries-conf")
                    i++;
                else if (words.Count == 1)
                    break; // the verb's options follow: the sub-verb, if any, came first
                continue;
            }
            words.Add(token);
        }
        return (words.ElementAtOrDefault(0), words.ElementAtOrDefault(1));
    }

    /// <summary>Adds each (name, factory) to <paramref name="noun"/>, only <paramref name="only"/> when it is one of them.</summary>
    static Command Noun(Command noun, string? only, params (string Name, Func<Command> Create)[] verbs)
    {
        var known = only is not null && Array.Exists(verbs, v => v.Name == only);
        foreach (var (name, create) in verbs)
            if (!known || name == only)
                noun.Subcommands.Add(create());
        return noun;
    }

    /// <summary>`moat image VERB`: the image verbs under one noun, as docker and podman have them.</summary>
    static Command ImageCommand(string? only) => Noun(new Command("image", "manage images"), only,
        ("ls", () => ImagesCommand.Create("ls")),
        ("rm", () => RmiCommand.Create("rm")),
        ("tag", () => TagCommand.Create("tag")),
        ("pull", () => PullCommand.Create("pull")),
        ("push", () => PushCommand.Create("push")),
        ("inspect", ImageInspectCommand.Create),
        ("prune", ImagePruneCommand.Create),
        ("save", () => SaveCommand.Create("save")),
        ("load", () => LoadCommand.Create("load")),
        ("import", () => ImportCommand.Create("import")));

    /// <summary>`moat seccomp VERB`: least-privilege profiles from a recorded run, and their differences.</summary>
    static Command SeccompCommand(string? only)
    {
        var seccomp = new Command("seccomp", "generate and compare seccomp profiles");
        seccomp.Subcommands.Add(SeccompGenerateCommand.Create());
        seccomp.Subcommands.Add(SeccompDiffCommand.Create());
        return seccomp;
    }

    /// <summary>`moat key VERB`: cosign key pairs.</summary>
    static Command KeyCommand(string? only)
    {
        var key = new Command("key", "cosign signing keys");
        key.Subcommands.Add(KeyGenerateCommand.Create());
        return key;
    }

    /// <summary>`moat trust VERB`: the trust policy (containers-policy.json).</summary>
    static Command TrustCommand(string? only)
    {
        var trust = new Command("trust", "the image trust policy");
        trust.Subcommands.Add(TrustCheckCommand.Create());
        return trust;
    }

    /// <summary>`moat container VERB`: the container verbs under one noun, as docker has them.</summary>
    static Command ContainerCommand(string? only) => Noun(new Command("container", "manage containers"), only == "list" ? "ls" : only,
        ("run", () => RunCommand.Create("run")),
        ("create", () => CreateCommand.Create("create")),
        ("start", () => StartCommand.Create("start")),
        ("stop", () => StopCommand.Create("stop")),
        ("restart", () => RestartCommand.Create("restart")),
        ("kill", () => KillCommand.Create("kill")),
        ("rm", () => RmCommand.Create("rm")),
        ("ls", () => PsCommand.Create("ls")),
        ("inspect", () => InspectCommand.Create("inspect")),
        ("exec", () => ExecCommand.Create("exec")),
        ("logs", () => LogsCommand.Create("logs")),
        ("top", () => TopCommand.Create("top")),
        ("port", () => PortCommand.Create("port")),
        ("update", () => UpdateCommand.Create("update")),
        ("stats", () => StatsCommand.Create("stats")),
        ("cp", () => CpCommand.Create("cp")),
        ("wait", () => WaitCommand.Create("wait")),
        ("pause", () => PauseCommand.Create("pause")),
        ("unpause", () => UnpauseCommand.Create("unpause")),
        ("rename", () => RenameCommand.Create("rename")),
        ("prune", ContainerPruneCommand.Create),
        ("cleanup", ContainerCleanupCommand.Create));

    static Command SystemCommand(string? only) => Noun(new Command("system", "the store as a whole"), only,
        ("df", SystemDfCommand.Create),
        ("prune", SystemPruneCommand.Create));

    /// <summary>`moat network VERB`: networks as objects (Moat.Network).</summary>
    static Command NetworkCommand(string? only) => Noun(new Command("network", "manage networks"), only,
        ("create", NetworkCreateCommand.Create),
        ("ls", NetworkLsCommand.Create),
        ("inspect", NetworkInspectCommand.Create),
        ("rm", NetworkRmCommand.Create),
        ("connect", NetworkConnectCommand.Create),
        ("disconnect", NetworkDisconnectCommand.Create),
        ("prune", NetworkPruneCommand.Create));
}
