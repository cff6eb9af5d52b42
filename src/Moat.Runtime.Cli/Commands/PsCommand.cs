using Moat.Runtime.Cli.Parsing;
using System.Diagnostics;
using System.Text;
using Moat.Runtime;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Cli.Commands;

/// <summary>ps: the processes of a container's cgroup, as ps(1) shows them (or their pids as JSON), like runc ps.</summary>
public static class PsCommand
{
    public static Command Create()
    {
        var id = IdArgument.One("the container whose processes to list");
        var psArgs = new Argument<string[]>("ps-options") { Description = "options for ps(1) (default -ef)", Arity = ArgumentArity.ZeroOrMore };
        var format = new Option<string>("--format", "-f") { Description = "select one of: table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command("ps", "displays the processes running inside a container");
        command.Arguments.Add(id);
        command.Arguments.Add(psArgs);
        command.Options.Add(format);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            var pids = context.Runtime.Processes(parse.GetValue(id)!);
            if (parse.GetValue(format) == "json")
            {
                CommandContext.Out("[" + string.Join(",", pids) + "]\n");
                return 0;
            }
            CommandContext.Out(Table(pids, parse.GetValue(psArgs) is { Length: > 0 } a ? a : ["-ef"]));
            return 0;
        }));
        return command;
    }

    /// <summary>Runs ps(1) on the host and keeps its header and the lines of the container's pids.</summary>
    static string Table(IReadOnlyList<int> pids, string[] psArgs)
    {
        var start = new ProcessStartInfo("ps") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in psArgs)
            start.ArgumentList.Add(a);
        using var ps = Process.Start(start) ?? throw new RuntimeException("cannot run ps");
        var lines = ps.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        ps.WaitForExit();
        if (ps.ExitCode != 0 || lines.Length == 0)
            throw new RuntimeException($"ps {string.Join(' ', psArgs)} failed");
        var pidColumn = Array.IndexOf(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries), "PID");
        if (pidColumn < 0)
            throw new RuntimeException("ps output has no PID column (pass options that show it)");
        var wanted = pids.ToHashSet();
        var text = new StringBuilder(lines[0]).Append('\n');
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > pidColumn && int.TryParse(fields[pidColumn], out var pid) && wanted.Contains(pid))
                text.Append(line).Append('\n');
        }
        return text.ToString();
    }
}
