using System.CommandLine;
using System.Globalization;
using System.Text;
using Moat.Engine;
using Moat.Engine.Containers;
using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Cli.Commands;

/// <summary>logs: the container's log (k8s-file or json-file, rotated files included) with -f, --since, --until, --tail, -t.</summary>
public static class LogsCommand
{
    public static Command Create(string name = "logs")
    {
        var container = new Argument<string>("CONTAINER");
        var follow = new Option<bool>("--follow", "-f") { Description = "keep printing what the container writes until it exits" };
        var since = new Option<string?>("--since") { Description = "from this time on: RFC 3339, a Unix time, or a duration ago (10m, 1h30m)" };
        var until = new Option<string?>("--until") { Description = "up to this time (same forms as --since)" };
        var tail = new Option<string?>("--tail", "-n") { Description = "only the last N lines (all: every line)" };
        var timestamps = new Option<bool>("--timestamps", "-t") { Description = "each line's time first" };
        var command = new Command(name, "print a container's output");
        command.Arguments.Add(container);
        foreach (var option in new Option[] { follow, since, until, tail, timestamps })
            command.Options.Add(option);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var engine = context.Engine;
            var record = engine.Get(parse.GetValue(container)!);
            if (record.Settings.LogPath is not { } path)
                throw new EngineException($"container {record.Name} has no log (its log driver is {record.Settings.LogDriver})");
            var from = parse.GetValue(since) is { } s ? ParseTime(s, "--since") : (DateTimeOffset?)null;
            var to = parse.GetValue(until) is { } u ? ParseTime(u, "--until") : (DateTimeOffset?)null;
            int? last = parse.GetValue(tail) is { } t && t != "all"
                ? int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"--tail \"{t}\" is not a number or all")
                : null;
            var stamp = parse.GetValue(timestamps);
            var entries = parse.GetValue(follow)
                ? LogReader.Follow(path, record.Settings.LogDriver, from, last, () => Finished(engine, record.Id), ImageCommandContext.Interruptible())
                : LogReader.Read(path, record.Settings.LogDriver, from, last);
            var lineStart = true;
            foreach (var entry in entries)
            {
                if (to is { } end && entry.Time > end)
                    break;
                var text = stamp && lineStart ? LogFormat.FormatTime(entry.Time) + " " + entry.Text : entry.Text;
                lineStart = !entry.Partial;
                try
                {
                    Libc.WriteAll(entry.Stream == LogFormat.Stderr ? 2 : 1, Encoding.UTF8.GetBytes(text), "stdout");
                }
                catch (SyscallException)
                {
                    return 0; // our reader went away (a closed pipe)
                }
            }
            return 0;
        }));
        return command;
    }

    /// <summary>-f ends when the container is no longer running and its monitor has gone (no more output can come).</summary>
    static bool Finished(ContainerEngine engine, string id)
    {
        if (engine.Store.Get(id) is not { } current)
            return true;
        var record = engine.Reconcile(current);
        return !record.IsRunning && record.State != Moat.Engine.Store.EngineStates.Created && !ProcStat.IsAlive(record.MonitorPid, record.MonitorStartTime);
    }

    /// <summary>docker's forms: RFC 3339, Unix seconds (with fractions), or a duration before now (90s, 10m, 1h30m).</summary>
    public static DateTimeOffset ParseTime(string text, string flag)
    {
        if (LogFormat.TryParseTime(text, out var time))
            return time;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
            return time;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            return DateTimeOffset.UnixEpoch.AddSeconds(seconds);
        var total = TimeSpan.Zero;
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            var digits = 0;
            while (digits < rest.Length && (char.IsAsciiDigit(rest[digits]) || rest[digits] == '.')) digits++;
            var unit = digits;
            while (unit < rest.Length && char.IsAsciiLetter(rest[unit])) unit++;
            if (digits == 0 || !double.TryParse(rest[..digits], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw new ArgumentException($"{flag} \"{text}\" is not a time (RFC 3339, Unix seconds, or a duration such as 10m)");
            total += rest[digits..unit] switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => throw new ArgumentException($"{flag} \"{text}\" has a duration unit other than ms, s, m, h"),
            };
            rest = rest[unit..];
        }
        return DateTimeOffset.UtcNow - total;
    }
}
