using System.CommandLine;
using Moat.Cli.Output;
using Moat.Engine.Store;

namespace Moat.Cli.Commands;

/// <summary>ps (container ls): docker's table, -a, -q, --no-trunc, -n/-l, --filter, --format json.</summary>
public static class PsCommand
{
    public static Command Create(string name = "ps")
    {
        var all = new Option<bool>("--all", "-a") { Description = "all containers (default: running ones)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "only ids" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "full ids and commands" };
        var last = new Option<int?>("--last", "-n") { Description = "the last N created containers (any state)" };
        var latest = new Option<bool>("--latest", "-l") { Description = "the last created container (any state)" };
        var filters = new Option<string[]>("--filter", "-f") { Description = "status=, name=, id=, label=KEY[=VALUE], ancestor=, exited=, health=" };
        var format = new Option<string>("--format") { Description = "table or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command(name, "list containers");
        if (name != "ps") command.Aliases.Add("list");
        foreach (var option in new Option[] { all, quiet, noTrunc, last, latest, filters, format })
            command.Options.Add(option);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            IEnumerable<ContainerRecord> rows = context.Engine.List();
            var conditions = (parse.GetValue(filters) ?? []).Select(ParseFilter).ToList();
            var n = parse.GetValue(latest) ? 1 : parse.GetValue(last);
            if (n is null && !parse.GetValue(all) && !conditions.Any(c => c.Key is "status" or "exited"))
                rows = rows.Where(c => c.IsRunning);
            rows = rows.Where(c => conditions.All(f => Matches(c, f.Key, f.Value)));
            if (n is { } count) rows = rows.Take(count);
            var list = rows.ToList();
            var full = parse.GetValue(noTrunc);
            if (parse.GetValue(quiet))
            {
                foreach (var c in list) context.Out((full ? c.Id : c.ShortId) + "\n");
                return 0;
            }
            if (parse.GetValue(format) == "json")
            {
                context.Out(ContainerJson.List(list) + "\n");
                return 0;
            }
            var now = DateTimeOffset.UtcNow;
            var table = new Table("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES");
            foreach (var c in list)
                table.Add(full ? c.Id : c.ShortId, c.ImageName, ContainerText.Command(c, full), Units.Ago(c.Created, now), ContainerText.Status(c, now), string.Join(", ", c.Settings.Ports), c.Name);
            context.Out(table.ToString());
            return 0;
        }));
        return command;
    }

    static KeyValuePair<string, string> ParseFilter(string text)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0)
            throw new ArgumentException($"filter \"{text}\" is not KEY=VALUE");
        var key = text[..eq];
        if (key is not ("status" or "name" or "id" or "label" or "ancestor" or "exited" or "health"))
            throw new ArgumentException($"filter \"{key}\" is not known (status, name, id, label, ancestor, exited, health)");
        return new(key, text[(eq + 1)..]);
    }

    static bool Matches(ContainerRecord c, string key, string value) => key switch
    {
        "status" => c.State == value,
        "name" => c.Name.Contains(value.TrimStart('/'), StringComparison.Ordinal),
        "id" => c.Id.StartsWith(value, StringComparison.Ordinal),
        "label" => value.IndexOf('=') is var eq and > 0
            ? c.Settings.Labels.TryGetValue(value[..eq], out var v) && v == value[(eq + 1)..]
            : c.Settings.Labels.ContainsKey(value),
        "ancestor" => c.ImageName.Contains(value, StringComparison.Ordinal) || c.ImageId.Contains(value, StringComparison.Ordinal),
        "exited" => c.State == EngineStates.Exited && c.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) == value,
        "health" => (c.Health ?? "none") == value,
        _ => false,
    };
}
