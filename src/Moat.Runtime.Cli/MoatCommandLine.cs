using Moat.Interop;
using Moat.Runtime.Cli.Parsing;
using Moat.Runtime.Cli.Commands;

namespace Moat.Runtime.Cli;

public static class MoatCommandLine
{
    const string Description = "moat: an OCI container runtime (runc's command line)";

    /// <summary>
    /// The command tree; when <paramref name="args"/> name a known command, only that one is built:
    /// the others would only be allocated and thrown away, in every process an engine starts.
    /// </summary>
    public static Command Build(IReadOnlyList<string>? args = null)
    {
        var root = new Command("moat", Description);
        GlobalOptions.AddTo(root);
        foreach (var command in Commands(args is null ? null : VerbOf(args)))
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>
    /// A command line the parser refused: each error on stderr, then the command's help on stdout
    /// (runc prints its usage there), exit status 1.
    /// </summary>
    public static int UsageError(IReadOnlyList<string> args, IReadOnlyList<ParseError> errors)
    {
        var text = new System.Text.StringBuilder();
        foreach (var error in errors)
            text.Append("moat: ").Append(error.Message).Append('\n');
        Libc.WriteAll(2, System.Text.Encoding.UTF8.GetBytes(text.ToString()), "stderr");
        var verb = VerbOf(args);
        string[] help = verb is not null && Find(verb) is not null ? [verb, "--help"] : ["--help"];
        ParseResult.Parse(Build(help), help).Invoke();
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

    static (string[] Names, Func<IEnumerable<Command>> Create)? Find(string? verb)
    {
        foreach (var entry in Verbs)
            if (Array.IndexOf(entry.Names, verb) >= 0)
                return entry;
        return null;
    }

    /// <summary>The named command's; unknown or absent, the whole tree, so that the error lists what exists.</summary>
    static IEnumerable<Command> Commands(string? verb)
    {
        if (Find(verb) is { } named)
            return named.Create();
        var all = new List<Command>();
        foreach (var entry in Verbs)
            all.AddRange(entry.Create());
        return all;
    }
}
