namespace Moat.Runtime.Cli.Parsing;

/// <summary>One error of a command line, as a sentence.</summary>
public sealed record ParseError(string Message);

/// <summary>
/// A parsed command line: the command it names, each option's and argument's value, and the errors.
/// Global (recursive) options come before or after the verb; "--" ends the options; an unknown token
/// that looks like a flag goes to the next argument, which refuses it if it is a container id.
/// </summary>
public sealed class ParseResult
{
    readonly Dictionary<object, object?> values = [];
    readonly List<ParseError> errors = [];

    ParseResult(Command root, Command command)
    {
        Root = root;
        Command = command;
    }

    public Command Root { get; }
    /// <summary>The command the line names (the root when it names none).</summary>
    public Command Command { get; }
    public IReadOnlyList<ParseError> Errors => errors;
    /// <summary>-h, --help or -? was given: the action is the command's help.</summary>
    public bool HelpRequested { get; private set; }
    public bool VersionRequested { get; private set; }

    public T GetValue<T>(Option<T> option) =>
        values.TryGetValue(option, out var value) ? (T)value! : option.DefaultValueFactory is { } factory ? factory(null) : default!;

    public T GetValue<T>(Argument<T> argument) =>
        values.TryGetValue(argument, out var value) ? (T)value! : argument.DefaultValueFactory is { } factory ? factory(null) : default!;

    public static ParseResult Parse(Command root, IReadOnlyList<string> args)
    {
        // The verb: the first token that is not a global option or its value.
        var command = root;
        var verbAt = -1;
        for (var i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (token == "--")
                break;
            if (token.StartsWith('-') && token.Length > 1)
            {
                if (Find(root.Options, token) is { IsFlag: false } && !token.Contains('='))
                    i++;
                continue;
            }
            if (root.Subcommands.Find(c => c.Is(token)) is { } sub)
            {
                command = sub;
                verbAt = i;
            }
            break;
        }
        var result = new ParseResult(root, command);
        result.Read(args, verbAt);
        return result;
    }

    static Option? Find(List<Option> options, string token)
    {
        var name = token.IndexOf('=') is var eq and > 0 ? token[..eq] : token;
        return options.Find(o => o.Is(name));
    }

    void Read(IReadOnlyList<string> args, int verbAt)
    {
        var given = new Dictionary<Option, List<string>>();
        var positionals = new List<string>();
        var afterSeparator = false;
        for (var i = 0; i < args.Count; i++)
        {
            if (i == verbAt)
                continue;
            var token = args[i];
            if (afterSeparator)
            {
                positionals.Add(token);
                continue;
            }
            if (token == "--")
            {
                afterSeparator = true;
                continue;
            }
            if (token is "-h" or "--help" or "-?")
            {
                HelpRequested = true;
                continue;
            }
            if (token == "--version" && Command == Root)
            {
                VersionRequested = true;
                continue;
            }
            if (!token.StartsWith('-') || token.Length == 1)
            {
                positionals.Add(token);
                continue;
            }
            var option = Find(Command.Options, token) ?? (Command != Root ? Find(Root.Options, token) is { Recursive: true } global ? global : null : null);
            if (option is null && Bundled(token) is { } flags)
            {
                foreach (var flag in flags)
                    Add(given, flag, "true");
                continue;
            }
            if (option is null)
            {
                // Not a flag of ours: the next argument decides (a container id refuses it, ps-options takes it).
                positionals.Add(token);
                continue;
            }
            var eq = token.IndexOf('=');
            if (eq > 0)
                Add(given, option, token[(eq + 1)..]);
            else if (option.IsFlag)
                Add(given, option, "true");
            else if (i + 1 < args.Count)
                Add(given, option, args[++i]);
            else
                errors.Add(new ParseError($"flag needs an argument: {token}"));
        }
        foreach (var (option, texts) in given)
        {
            var value = option.Convert(texts, out var error);
            if (error is not null)
                errors.Add(new ParseError(error));
            else
                values[option] = value;
        }
        if (Command == Root)
        {
            if (!HelpRequested && !VersionRequested)
                errors.Add(new ParseError(positionals.Count == 0 ? "Required command was not provided." : $"Unrecognized command or argument '{positionals[0]}'."));
            return;
        }
        Assign(positionals);
    }

    /// <summary>"-dt": single-letter boolean flags written together.</summary>
    List<Option>? Bundled(string token)
    {
        if (token.StartsWith("--", StringComparison.Ordinal) || token.Length < 3)
            return null;
        var flags = new List<Option>();
        foreach (var letter in token.AsSpan(1))
        {
            var name = "-" + letter;
            if (Find(Command.Options, name) is not { IsFlag: true } flag)
                return null;
            flags.Add(flag);
        }
        return flags;
    }

    static void Add(Dictionary<Option, List<string>> given, Option option, string text)
    {
        if (!given.TryGetValue(option, out var list))
            given[option] = list = [];
        list.Add(text);
    }

    void Assign(List<string> positionals)
    {
        var next = 0;
        foreach (var argument in Command.Arguments)
        {
            var take = argument.IsMany ? positionals.Count - next : Math.Min(1, positionals.Count - next);
            if (take == 0)
            {
                if (argument.Arity != ArgumentArity.ZeroOrMore && !argument.HasDefault)
                {
                    errors.Add(new ParseError($"Required argument missing for command: '{Command.Name}'."));
                    return;
                }
                continue;
            }
            var tokens = positionals.GetRange(next, take);
            next += take;
            if (argument.RefusesFlags && tokens.Find(t => t.StartsWith('-')) is { } flag)
            {
                errors.Add(new ParseError($"flag provided but not defined: {flag}"));
                return;
            }
            values[argument] = argument.Convert(tokens);
        }
        if (next < positionals.Count && Command.TreatUnmatchedTokensAsErrors)
        {
            var extra = positionals[next];
            errors.Add(new ParseError(extra.StartsWith('-') && extra.Length > 1
                ? $"flag provided but not defined: {extra}"
                : $"Unrecognized command or argument '{extra}'."));
        }
    }

    /// <summary>Runs the command's action, or prints help or the version; a command line with errors is the caller's to report.</summary>
    public int Invoke()
    {
        if (HelpRequested)
        {
            HelpText.Write(Root, Command);
            return 0;
        }
        if (VersionRequested)
        {
            HelpText.WriteVersion();
            return 0;
        }
        return Command.Action is { } action ? action(this) : 0;
    }
}
