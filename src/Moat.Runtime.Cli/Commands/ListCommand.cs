using Moat.Runtime.Cli.Parsing;
using System.Text;
using System.Text.Json;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Cli.Commands;

public static class ListCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format", "-f") { Description = "select one of: table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "display only container IDs" };
        var command = new Command("list", "lists containers started by moat with the given root");
        command.Aliases.Add("ps-all");
        command.Options.Add(format);
        command.Options.Add(quiet);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            var reports = context.Runtime.List().Select(StateReport.From).ToList();
            if (parse.GetValue(quiet))
            {
                CommandContext.Out(string.Concat(reports.Select(r => r.Id + "\n")));
                return 0;
            }
            if (parse.GetValue(format) == "json")
            {
                CommandContext.Out(StateReport.ToJson(reports) + "\n");
                return 0;
            }
            CommandContext.Out(Table(reports));
            return 0;
        }));
        return command;
    }

    /// <summary>runc's tab-aligned table: ID PID STATUS BUNDLE CREATED OWNER.</summary>
    public static string Table(IReadOnlyList<StateReport> reports)
    {
        var rows = new List<string[]> { new[] { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" } };
        rows.AddRange(reports.Select(r => new[]
        {
            r.Id, r.Pid.ToString(), r.Status, r.Bundle, r.Created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ"), r.Owner,
        }));
        var widths = Enumerable.Range(0, 6).Select(c => rows.Max(r => r[c].Length) + 3).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length; c++)
                text.Append(c == row.Length - 1 ? row[c] : row[c].PadRight(widths[c]));
            text.Append('\n');
        }
        return text.ToString();
    }
}
