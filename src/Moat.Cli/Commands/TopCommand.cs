using System.CommandLine;
using System.Globalization;
using Moat.Cli.Output;
using Moat.Engine;
using Moat.Interop;

namespace Moat.Cli.Commands;

/// <summary>top: the container's processes (the runtime's ps) with ps -ef's columns from /proc.</summary>
public static class TopCommand
{
    public static Command Create(string name = "top")
    {
        var container = new Argument<string>("CONTAINER");
        var command = new Command(name, "show a container's processes");
        command.Arguments.Add(container);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var record = context.Engine.Get(parse.GetValue(container)!);
            if (!record.IsRunning)
                throw new EngineException($"container {record.Name} is not running");
            var table = new Table("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
            var ticks = 100.0; // USER_HZ on Linux
            var boot = BootTime();
            foreach (var pid in context.Engine.RuntimeFor(record).Processes(record.Id).Order())
            {
                var stat = Libc.TryReadText($"/proc/{pid}/stat");
                var status = Libc.TryReadText($"/proc/{pid}/status");
                if (stat is null || status is null) continue;
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var uid = status.Split('\n').First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
                var cpu = (ulong.Parse(fields[11], CultureInfo.InvariantCulture) + ulong.Parse(fields[12], CultureInfo.InvariantCulture)) / ticks;
                var started = boot.AddSeconds(ulong.Parse(fields[19], CultureInfo.InvariantCulture) / ticks).ToLocalTime();
                var cmd = (Libc.TryReadText($"/proc/{pid}/cmdline") ?? "").TrimEnd('\0').Replace('\0', ' ');
                table.Add(uid, pid.ToString(CultureInfo.InvariantCulture), fields[1], "0", started.ToString("HH:mm", CultureInfo.InvariantCulture),
                    fields[4] == "0" ? "?" : "pts", TimeSpan.FromSeconds(cpu).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture), cmd);
            }
            context.Out(table.ToString());
            return 0;
        }));
        return command;
    }

    static DateTimeOffset BootTime()
    {
        var line = (Libc.TryReadText("/proc/stat") ?? "").Split('\n').FirstOrDefault(l => l.StartsWith("btime ", StringComparison.Ordinal));
        return line is null ? DateTimeOffset.UnixEpoch : DateTimeOffset.FromUnixTimeSeconds(long.Parse(line[6..], CultureInfo.InvariantCulture));
    }
}
