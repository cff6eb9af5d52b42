using System.CommandLine;
using System.Text;
using System.Text.Json;
using Moat.Monitor.Protocol;

namespace Moat.Cli.Commands;

/// <summary>events: the journal (`&lt;root&gt;/events.jsonl`) as docker prints it, --since/--until, --filter, --format json; follows until interrupted (or --until).</summary>
public static class EventsCommand
{
    public static Command Create(string name = "events")
    {
        var since = new Option<string?>("--since") { Description = "events from this time (RFC 3339, Unix time, or a duration ago)" };
        var until = new Option<string?>("--until") { Description = "stop at this time instead of following" };
        var filters = new Option<string[]>("--filter", "-f") { Description = "type=, event=, container=, image=, label=" };
        var format = new Option<string?>("--format") { Description = "json: one JSON object per line" };
        var command = new Command(name, "show the engine's events as they happen");
        foreach (var option in new Option[] { since, until, filters, format })
            command.Options.Add(option);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var from = parse.GetValue(since) is { } s ? LogsCommand.ParseTime(s, "--since") : (DateTimeOffset?)null;
            var to = parse.GetValue(until) is { } u ? LogsCommand.ParseTime(u, "--until") : (DateTimeOffset?)null;
            var conditions = (parse.GetValue(filters) ?? []).Select(f => f.Split('=', 2)).Select(p => p.Length == 2 ? (p[0], p[1]) : throw new ArgumentException($"filter \"{string.Join('=', p)}\" is not KEY=VALUE")).ToList();
            var json = parse.GetValue(format) == "json";
            var journal = context.Engine.Events;
            var cancel = ImageCommandContext.Interruptible();
            // Without --since, docker shows only what happens from now on.
            long offset = from is null ? (File.Exists(journal.Path) ? new FileInfo(journal.Path).Length : 0) : 0;
            var batch = new List<EngineEvent>();
            while (!cancel.IsCancellationRequested)
            {
                batch.Clear();
                offset = journal.Read(offset, batch);
                foreach (var e in batch)
                {
                    if (from is { } f && e.Time < f) continue;
                    if (to is { } t && e.Time > t) return 0;
                    if (!conditions.All(c => Matches(e, c.Item1, c.Item2))) continue;
                    context.Out(json ? Json(e) + "\n" : Line(e) + "\n");
                }
                if (to is { } end && DateTimeOffset.UtcNow > end) return 0;
                cancel.WaitHandle.WaitOne(200);
            }
            return 0;
        }));
        return command;
    }

    static bool Matches(EngineEvent e, string key, string value) => key switch
    {
        "type" => e.Type == value,
        "event" or "action" => e.Action == value,
        "container" => e.Type == "container" && (e.Id.StartsWith(value, StringComparison.Ordinal) || e.Attributes?.GetValueOrDefault("name") == value),
        "image" => e.Attributes?.GetValueOrDefault("image")?.Contains(value, StringComparison.Ordinal) == true,
        "label" => value.Split('=', 2) is var kv && e.Attributes?.GetValueOrDefault(kv[0]) is { } v && (kv.Length == 1 || v == kv[1]),
        _ => throw new ArgumentException($"filter \"{key}\" is not known (type, event, container, image, label)"),
    };

    /// <summary>docker's line: `2026-12-02T10:00:00.000000000Z container start ID (image=..., name=...)`.</summary>
    static string Line(EngineEvent e)
    {
        var attributes = string.Join(", ", (e.Attributes ?? new Dictionary<string, string>()).OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}"));
        return $"{LogFormat.FormatTime(e.Time)} {e.Type} {e.Action} {e.Id}{(attributes.Length > 0 ? $" ({attributes})" : "")}";
    }

    static string Json(EngineEvent e)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("Type", e.Type);
            w.WriteString("Action", e.Action);
            w.WriteStartObject("Actor");
            w.WriteString("ID", e.Id);
            w.WriteStartObject("Attributes");
            foreach (var (k, v) in e.Attributes ?? new Dictionary<string, string>()) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteNumber("time", e.Time.ToUnixTimeSeconds());
            w.WriteNumber("timeNano", e.Time.ToUnixTimeMilliseconds() * 1_000_000);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
