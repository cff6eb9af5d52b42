using System.Reflection;
using System.Text;
using Moat.Interop;

namespace Moat.Runtime.Cli.Parsing;

/// <summary>--help and --version, written to stdout with write(2) (System.Console would put a terminal in keypad mode).</summary>
public static class HelpText
{
    public static void Write(Command root, Command command)
    {
        var text = new StringBuilder();
        var program = Path.GetFileName(Environment.GetCommandLineArgs()[0]);
        if (command.Description is { } description)
            text.Append("Description:\n  ").Append(description).Append("\n\n");
        text.Append("Usage:\n  ").Append(program);
        if (command != root)
            text.Append(' ').Append(command.Name);
        foreach (var argument in command.Arguments)
            text.Append(" <").Append(argument.Name).Append('>');
        text.Append(command == root ? " [command] [options]\n\n" : " [options]\n\n");

        // Plain loops, no LINQ: every generic instantiation is data relocated at each start.
        var arguments = new List<(string, string)>();
        foreach (var argument in command.Arguments)
            arguments.Add(($"<{argument.Name}>", argument.Description ?? ""));
        Table(text, "Arguments", arguments);
        var options = new List<(string, string)>();
        var shown = new List<Option>(command.Options);
        if (command != root)
            foreach (var option in root.Options)
                if (option.Recursive)
                    shown.Add(option);
        foreach (var option in shown)
            if (!option.Hidden)
                options.Add((OptionName(option), (option.Description ?? "") + (option.HasDefault && !option.IsFlag ? $" [default: {option.DefaultValue()}]" : "")));
        options.Add(("-?, -h, --help", "Show help and usage information"));
        if (command == root)
            options.Add(("--version", "Show version information"));
        Table(text, "Options", options);
        var commands = new List<(string, string)>();
        foreach (var sub in command.Subcommands)
        {
            var name = new StringBuilder(sub.Name);
            foreach (var alias in sub.Aliases)
                name.Append(", ").Append(alias);
            foreach (var argument in sub.Arguments)
                name.Append(" <").Append(argument.Name).Append('>');
            commands.Add((name.ToString(), sub.Description ?? ""));
        }
        Table(text, "Commands", commands);
        Libc.WriteAll(1, Encoding.UTF8.GetBytes(text.ToString()), "stdout");
    }

    static string OptionName(Option option)
    {
        var names = new StringBuilder();
        foreach (var alias in option.Aliases)
            names.Append(alias).Append(", ");
        names.Append(option.Name);
        if (option.IsFlag)
            return names.ToString();
        return names + (option.Allowed is { } allowed ? $" <{string.Join('|', allowed)}>" : $" <{option.Name.TrimStart('-')}>");
    }

    static void Table(StringBuilder text, string title, List<(string Name, string Description)> rows)
    {
        if (rows.Count == 0)
            return;
        var width = 0;
        foreach (var row in rows)
            width = Math.Max(width, row.Name.Length + 2);
        text.Append(title).Append(":\n");
        foreach (var (name, description) in rows)
            text.Append("  ").Append(name.PadRight(width)).Append(description).Append('\n');
        text.Append('\n');
    }

    public static void WriteVersion()
    {
        var version = Assembly.GetEntryAssembly()?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        Libc.WriteAll(1, Encoding.UTF8.GetBytes(version + "\n"), "stdout");
    }
}
