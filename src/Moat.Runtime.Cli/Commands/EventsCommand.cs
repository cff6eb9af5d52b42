using Moat.Runtime.Cli.Parsing;
using System.Globalization;
using System.Text.Json;
using Moat.Runtime;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Lifecycle;
using ContainerStatus = Moat.Runtime.State.ContainerStatus;

namespace Moat.Runtime.Cli.Commands;

/// <summary>events: the container's cgroup statistics (once with --stats, else every interval) and OOM kills, as runc prints them.</summary>
public static class EventsCommand
{
    public static Command Create()
    {
        var id = IdArgument.One("the container to watch");
        var stats = new Option<bool>("--stats") { Description = "display the container's stats then exit" };
        var interval = new Option<string>("--interval") { Description = "set the stats collection interval (e.g. 5s, 500ms)", DefaultValueFactory = _ => "5s" };
        var command = new Command("events", "display container events such as OOM notifications and cpu, memory and IO usage statistics");
        command.Arguments.Add(id);
        command.Options.Add(stats);
        command.Options.Add(interval);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            var containerId = parse.GetValue(id)!;
            TimeSpan? period = parse.GetValue(stats) ? null : ParseInterval(parse.GetValue(interval)!);
            context.Runtime.Events(containerId, period, line => CommandContext.Out(line + "\n"));
            return 0;
        }));
        return command;
    }

    /// <summary>A Go-style duration as runc takes it: 5s, 500ms, 1m, 1h.</summary>
    public static TimeSpan ParseInterval(string text)
    {
        var units = new (string Suffix, double Milliseconds)[] { ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000) };
        foreach (var (suffix, ms) in units)
            if (text.EndsWith(suffix, StringComparison.Ordinal) && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && value > 0 && !(suffix == "m" && text.EndsWith("ms", StringComparison.Ordinal)))
                return TimeSpan.FromMilliseconds(value * ms);
        throw new RuntimeException($"--interval \"{text}\" is not a duration (e.g. 5s, 500ms, 1m)");
    }
}
