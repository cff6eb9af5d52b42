using System.CommandLine;

namespace Moat.Cli;

/// <summary>
/// docker stops reading its own options at the image (`moat run IMAGE sh -c x` gives `-c` to sh) and at
/// exec's container; System.CommandLine reads options anywhere. So a `--` is put after the first positional
/// of run, create and exec (and `container run|create|exec`), found with the command's own option table.
/// </summary>
public static class CommandArguments
{
    static readonly HashSet<string> StopAfterFirstPositional = ["run", "create", "exec"];

    public static string[] Prepare(RootCommand root, string[] args)
    {
        Command current = root;
        for (var i = 0; i < args.Length; i++)
        {
            var token = args[i];
            if (token == "--")
                return args;
            if (token.StartsWith('-') && token.Length > 1)
            {
                if (!token.Contains('=') && TakesValue(current, root, token))
                    i++;
                continue;
            }
            if (!IsPositionalOf(current) && current.Subcommands.FirstOrDefault(c => c.Name == token || c.Aliases.Contains(token)) is { } sub)
            {
                current = sub;
                continue;
            }
            var separated = i + 1 < args.Length && args[i + 1] == "--";
            return IsPositionalOf(current) && !separated ? [.. args[..(i + 1)], "--", .. args[(i + 1)..]] : args;
        }
        return args;
    }

    static bool IsPositionalOf(Command command) => StopAfterFirstPositional.Contains(command.Name);

    static bool TakesValue(Command command, RootCommand root, string token)
    {
        var option = command.Options.Concat(root.Options).FirstOrDefault(o => o.Name == token || o.Aliases.Contains(token));
        if (option is null)
        {
            // Bundled short flags (-it, -dit): none takes a value unless its last letter does.
            if (token.Length > 2 && token[1] != '-')
                return TakesValue(command, root, "-" + token[^1]);
            return false;
        }
        return option.Arity.MaximumNumberOfValues > 0 && option.ValueType != typeof(bool) && option.ValueType != typeof(bool?);
    }
}
