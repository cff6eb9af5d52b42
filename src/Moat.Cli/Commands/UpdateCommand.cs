using System.CommandLine;
using System.Globalization;

namespace Moat.Cli.Commands;

/// <summary>update: docker's resource flags applied to running containers through the runtime's update (runc's flag names), and --restart.</summary>
public static class UpdateCommand
{
    public static Command Create(string name = "update")
    {
        var containers = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var memory = new Option<string?>("--memory", "-m") { Description = "memory limit (bytes, or 64m, 1g)" };
        var swap = new Option<string?>("--memory-swap") { Description = "memory plus swap limit (-1: unlimited)" };
        var reservation = new Option<string?>("--memory-reservation") { Description = "memory soft limit" };
        var cpus = new Option<string?>("--cpus") { Description = "number of CPUs (1.5)" };
        var shares = new Option<string?>("--cpu-shares", "-c") { Description = "CPU shares (relative weight)" };
        var period = new Option<string?>("--cpu-period") { Description = "CFS period (µs)" };
        var quota = new Option<string?>("--cpu-quota") { Description = "CFS quota (µs)" };
        var cpuset = new Option<string?>("--cpuset-cpus") { Description = "CPUs allowed (0-3, 0,1)" };
        var mems = new Option<string?>("--cpuset-mems") { Description = "memory nodes allowed" };
        var pids = new Option<string?>("--pids-limit") { Description = "most processes (-1: unlimited)" };
        var blkio = new Option<string?>("--blkio-weight") { Description = "block IO weight (10 to 1000)" };
        var restart = new Option<string?>("--restart") { Description = "restart policy: no, on-failure[:N], always, unless-stopped (taken at the container's next exit)" };
        var command = new Command(name, "change running containers' resource limits");
        command.Arguments.Add(containers);
        var table = new (Option<string?> Option, string RuntimeFlag, bool Size)[]
        {
            (memory, "--memory", true), (swap, "--memory-swap", true), (reservation, "--memory-reservation", true),
            (shares, "--cpu-share", false), (period, "--cpu-period", false), (quota, "--cpu-quota", false),
            (cpuset, "--cpuset-cpus", false), (mems, "--cpuset-mems", false), (pids, "--pids-limit", false), (blkio, "--blkio-weight", false),
        };
        foreach (var entry in table) command.Options.Add(entry.Option);
        command.Options.Add(cpus);
        command.Options.Add(restart);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var runtimeFlags = new Dictionary<string, string>();
            var given = new Dictionary<string, string>();
            foreach (var (option, flag, size) in table)
            {
                if (parse.GetValue(option) is not { } value) continue;
                runtimeFlags[flag] = size ? Bytes(value, option.Name) : value;
                given[option.Name.TrimStart('-')] = value;
            }
            if (parse.GetValue(cpus) is { } count)
            {
                if (!double.TryParse(count, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0)
                    throw new ArgumentException($"--cpus \"{count}\" is not a positive number");
                runtimeFlags["--cpu-period"] = "100000";
                runtimeFlags["--cpu-quota"] = ((long)(n * 100000)).ToString(CultureInfo.InvariantCulture);
                given["cpus"] = count;
            }
            var policy = parse.GetValue(restart) is { } text ? Moat.Engine.Run.Flags.Restart.Parse(text) : null;
            if (runtimeFlags.Count == 0 && policy is null)
                throw new ArgumentException("update needs a resource flag (--memory, --cpus, --pids-limit...) or --restart");
            return context.ForEach(parse.GetValue(containers)!, n => { context.Engine.Update(n, runtimeFlags, given, policy); return n; });
        }));
        return command;
    }

    /// <summary>docker's sizes: a number of bytes with an optional b, k, m or g suffix (powers of 1024); -1 stays -1.</summary>
    static string Bytes(string text, string flag)
    {
        if (text == "-1") return text;
        var unit = char.ToLowerInvariant(text[^1]);
        var multiplier = unit switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, 'b' => 1L, _ => 0L };
        var digits = multiplier == 0 ? text : text[..^1];
        if (multiplier == 0) multiplier = 1;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            throw new ArgumentException($"{flag} \"{text}\" is not a size (bytes, or a number with k, m or g)");
        return (value * multiplier).ToString(CultureInfo.InvariantCulture);
    }
}
