using System.CommandLine;
using System.CommandLine.Help;
using Moat.Interop;
using Moat.Runtime.Cli.Commands;

namespace Moat.Runtime.Cli;

public static class MoatCommandLine
{
    const string Description = "moat: an OCI container runtime (runc's command line)";

    /// <summary>
    /// The command tree; <paramref name="args"/> decide whether --help and --version are wired in and,
    /// when they name a known command, which one is built: the others would only be allocated and
    /// thrown away (each verb's options, converters and actions), in every process an engine starts.
    /// </summary>
    public static Command Build(IReadOnlyList<string>? args = null)
    {
        // RootCommand adds --help and --version, and System.CommandLine loads their descriptions
        // through a ResourceManager (reflection under NativeAOT: 6% of the CPU of a `moat start`).
        // Engines never ask for either, so a plain root serves every call that cannot be asking.
        var mayAskForHelp = args is null || args.Count == 0
            || args.Any(a => a is "-h" or "--help" or "-?" or "/?" or "/h" or "--version" or "help");
        var root = mayAskForHelp ? new RootCommand(Description) : new Command("moat", Description);
        // Help's default width comes from Console.WindowWidth, whose first use sets a terminal
        // to keypad mode (see CommandContext.Err): ask the terminal directly.
        if (root is RootCommand)
            foreach (var option in root.Options)
                if (option is HelpOption { Action: HelpAction help })
                    help.MaxWidth = Libc.GetWindowSize(1) is { Columns: > 0 } size ? size.Columns : int.MaxValue;
        GlobalOptions.AddTo(root);
        foreach (var command in Commands(mayAskForHelp ? null : VerbOf(args!)))
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>
    /// A command line the parser refused: each error on stderr, then the command's help on stdout
    /// (runc prints its usage there), exit status 1. Written here rather than by the parser's own
    /// error action, which colours its output through System.Console.
    /// </summary>
    public static int UsageError(IReadOnlyList<string> args, IReadOnlyList<System.CommandLine.Parsing.ParseError> errors, InvocationConfiguration invocation)
    {
        foreach (var error in errors)
            invocation.Error.WriteLine($"moat: {error.Message}");
        invocation.Error.Flush();
        var verb = VerbOf(args);
        string[] help = verb is not null && Verbs.Any(v => v.Names.Contains(verb)) ? [verb, "--help"] : ["--help"];
        Build(help).Parse(help).Invoke(invocation);
        return 1;
    }

    /// <summary>The first argument that is neither a global option nor its value: the command's name.</summary>
    static string? VerbOf(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith('-'))
                return args[i];
            if (GlobalOptions.TakesValue(args[i]))
                i++;
        }
        return null;
    }

    /// <summary>Every command, by the names that select it (pause and resume come as one pair).</summary>
    static readonly (string[] Names, Func<IEnumerable<Command>> Create)[] Verbs =
    [
        (["create"], () => [CreateCommand.Create()]),
        (["start"], () => [StartCommand.Create()]),
        (["state"], () => [StateCommand.Create()]),
        (["kill"], () => [KillCommand.Create()]),
        (["delete"], () => [DeleteCommand.Create()]),
        (["run"], () => [RunCommand.Create()]),
        (["list"], () => [ListCommand.Create()]),
        (["spec"], () => [SpecCommand.Create()]),
        (["features"], () => [FeaturesCommand.Create()]),
        (["exec"], () => [ExecCommand.Create()]),
        (["ps"], () => [PsCommand.Create()]),
        (["update"], () => [UpdateCommand.Create()]),
        (["events"], () => [EventsCommand.Create()]),
        (["checkpoint", "restore"], CheckpointCommand.Create),
        (["pause", "resume"], PauseCommand.Create),
    ];

    /// <summary>The named command's; unknown or absent, the whole tree, so that the error lists what exists.</summary>
    static IEnumerable<Command> Commands(string? verb) =>
        Verbs.FirstOrDefault(v => v.Names.Contains(verb)) is { Create: { } create }
            ? create()
            : Verbs.SelectMany(v => v.Create());
}
