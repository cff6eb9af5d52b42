using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Moat.Cli.Output;
using Moat.Engine.Stats;
using Moat.Engine.Store;
using Moat.Interop;

namespace Moat.Cli.Commands;

/// <summary>stats: docker's live table of CPU, memory, network and block I/O and processes per container, from their cgroups; --no-stream, -a, --format json.</summary>
public static class StatsCommand
{
    public static Command Create(string name = "stats")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all", "-a") { Description = "all containers (default: running ones)" };
        var noStream = new Option<bool>("--no-stream") { Description = "print one reading and exit" };
        var noTrunc = new Option<bool>("--no-trunc") { Description = "full ids" };
        var format = new Option<string>("--format") { Description = "table or json (one object per container and line)", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json");
        var command = new Command(name, "show containers' resource use");
        command.Arguments.Add(containers);
        foreach (var option in new Option[] { all, noStream, noTrunc, format })
            command.Options.Add(option);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var named = parse.GetValue(containers) ?? [];
            var json = parse.GetValue(format) == "json";
            var full = parse.GetValue(noTrunc);
            var reader = new ContainerStatsReader();
            // Named containers must exist (an error otherwise, as docker); without names, the set is re-read each round.
            var ids = named.Select(n => context.Engine.Get(n).Id).ToList();
            IReadOnlyList<ContainerRecord> Select() => ids.Count > 0
                ? ids.Select(id => context.Engine.Store.Get(id) is { } r ? context.Engine.Reconcile(r) : null).OfType<ContainerRecord>().ToList()
                : context.Engine.List().Where(c => parse.GetValue(all) || c.IsRunning).ToList();
            var previous = new Dictionary<string, ContainerStats>();
            var stream = !parse.GetValue(noStream);
            var clear = stream && !json && Libc.isatty(1) == 1;
            var cancel = ImageCommandContext.Interruptible();
            while (true)
            {
                var readings = Select().Select(r => reader.Read(r, previous.GetValueOrDefault(r.Id))).ToList();
                previous = readings.ToDictionary(r => r.Id);
                var text = json ? Json(readings, full) : Table(readings, full);
                // A terminal gets the table redrawn in place, as docker does; a pipe gets one table after another.
                context.Out(clear ? "\u001b[2J\u001b[H" + text : text);
                if (!stream || cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(1)))
                    return 0;
            }
        }));
        return command;
    }

    static string Table(IReadOnlyList<ContainerStats> readings, bool full)
    {
        var table = new Table("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");
        foreach (var s in readings)
            table.Add(full ? s.Id : s.Id[..12], s.Name, Percent(s.CpuPercent), MemoryUsage(s), Percent(s.MemoryPercent), NetIo(s), BlockIo(s), s.Pids.ToString(CultureInfo.InvariantCulture));
        return table.ToString();
    }

    /// <summary>docker's `stats --format json` keys, one object per line.</summary>
    static string Json(IReadOnlyList<ContainerStats> readings, bool full)
    {
        var text = new StringBuilder();
        foreach (var s in readings)
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("BlockIO", BlockIo(s));
                w.WriteString("CPUPerc", Percent(s.CpuPercent));
                w.WriteString("Container", s.Name);
                w.WriteString("ID", full ? s.Id : s.Id[..12]);
                w.WriteString("MemPerc", Percent(s.MemoryPercent));
                w.WriteString("MemUsage", MemoryUsage(s));
                w.WriteString("Name", s.Name);
                w.WriteString("NetIO", NetIo(s));
                w.WriteString("PIDs", s.Pids.ToString(CultureInfo.InvariantCulture));
                w.WriteEndObject();
            }
            text.Append(Encoding.UTF8.GetString(buffer.ToArray())).Append('\n');
        }
        return text.ToString();
    }

    static string Percent(double value) => value.ToString("0.00", CultureInfo.InvariantCulture) + "%";
    static string MemoryUsage(ContainerStats s) => $"{Units.BinarySize(s.MemoryUsage)} / {Units.BinarySize(s.MemoryLimit)}";
    static string NetIo(ContainerStats s) => s.NetworkReceived is { } rx && s.NetworkSent is { } tx ? $"{Units.HumanSize((long)rx)} / {Units.HumanSize((long)tx)}" : "--";
    static string BlockIo(ContainerStats s) => $"{Units.HumanSize((long)s.BlockRead)} / {Units.HumanSize((long)s.BlockWritten)}";
}
