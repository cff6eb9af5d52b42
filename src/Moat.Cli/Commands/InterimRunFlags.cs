using System.CommandLine;
using System.Globalization;
using Moat.Engine.Run;
using Moat.Images.Bundles;
using Moat.Monitor.Protocol;

namespace Moat.Cli.Commands;

/// <summary>
/// The few run/create flags the engine's own tests need until RunFlags (the runflags branch) parses them all:
/// -d -i -t --rm --name -e -v --restart --health-* --stop-timeout --label. Same shape as RunFlags (AddTo, Read),
/// so the switch is one line in run and create; this file then goes.
/// </summary>
public static class InterimRunFlags
{
    static readonly Option<bool> Detach = new("--detach", "-d") { Description = "run in the background and print the container id" };
    static readonly Option<bool> Interactive = new("--interactive", "-i") { Description = "keep stdin open and attach it" };
    static readonly Option<bool> Tty = new("--tty", "-t") { Description = "allocate a terminal" };
    static readonly Option<bool> Remove = new("--rm") { Description = "remove the container when it exits" };
    static readonly Option<string?> Name = new("--name") { Description = "the container's name" };
    static readonly Option<string[]> Env = new("--env", "-e") { Description = "KEY=VALUE (or KEY: taken from our environment)" };
    static readonly Option<string[]> Volume = new("--volume", "-v") { Description = "SOURCE:TARGET[:ro] (a host path or a volume name), or TARGET for an anonymous volume" };
    static readonly Option<string?> Restart = new("--restart") { Description = "no, on-failure[:N], always, unless-stopped" };
    static readonly Option<string?> HealthCmd = new("--health-cmd") { Description = "a shell command whose failure means unhealthy" };
    static readonly Option<string?> HealthInterval = new("--health-interval") { Description = "time between checks (e.g. 1s)" };
    static readonly Option<int?> HealthRetries = new("--health-retries") { Description = "failures in a row before unhealthy" };
    static readonly Option<int?> StopTimeout = new("--stop-timeout") { Description = "seconds between the stop signal and SIGKILL" };
    static readonly Option<string[]> Label = new("--label", "-l") { Description = "KEY=VALUE" };
    static readonly Option<string?> Entrypoint = new("--entrypoint") { Description = "replace the image's entrypoint" };

    public static void AddTo(Command command)
    {
        foreach (var option in new Option[] { Detach, Interactive, Tty, Remove, Name, Env, Volume, Restart, HealthCmd, HealthInterval, HealthRetries, StopTimeout, Label, Entrypoint })
            command.Options.Add(option);
    }

    public static RunRequest Read(ParseResult parse, string image, IReadOnlyList<string> command)
    {
        var env = new List<string>();
        foreach (var entry in parse.GetValue(Env) ?? [])
            env.Add(entry.Contains('=') ? entry : $"{entry}={Environment.GetEnvironmentVariable(entry)}");
        var mounts = new List<MountRequest>();
        foreach (var spec in parse.GetValue(Volume) ?? [])
        {
            var parts = spec.Split(':');
            var readOnly = parts.Length == 3 && parts[2] == "ro";
            mounts.Add(parts.Length == 1
                ? new MountRequest { Type = "volume", Target = parts[0] }
                : new MountRequest { Type = parts[0].StartsWith('/') ? "bind" : "volume", Source = parts[0], Target = parts[1], ReadOnly = readOnly });
        }
        var restart = new RestartPolicy();
        if (parse.GetValue(Restart) is { } policy)
        {
            var colon = policy.IndexOf(':');
            var policyName = colon < 0 ? policy : policy[..colon];
            if (policyName is not (RestartPolicies.No or RestartPolicies.OnFailure or RestartPolicies.Always or RestartPolicies.UnlessStopped))
                throw new ArgumentException($"--restart \"{policy}\" is not no, on-failure[:N], always or unless-stopped");
            restart = new RestartPolicy { Name = policyName, MaximumRetryCount = colon < 0 ? 0 : int.Parse(policy[(colon + 1)..], CultureInfo.InvariantCulture) };
        }
        var labels = new Dictionary<string, string>();
        foreach (var label in parse.GetValue(Label) ?? [])
        {
            var eq = label.IndexOf('=');
            labels[eq < 0 ? label : label[..eq]] = eq < 0 ? "" : label[(eq + 1)..];
        }
        return new RunRequest
        {
            Image = image,
            Bundle = new BundleOptions
            {
                Command = command.Count > 0 ? command : null,
                Entrypoint = parse.GetValue(Entrypoint) is { } ep ? (ep.Length == 0 ? [] : [ep]) : null,
                Env = env,
                Terminal = parse.GetValue(Tty),
            },
            Mounts = mounts,
            Name = parse.GetValue(Name),
            Detach = parse.GetValue(Detach),
            Interactive = parse.GetValue(Interactive),
            Tty = parse.GetValue(Tty),
            Remove = parse.GetValue(Remove),
            Restart = restart,
            Health = new HealthSettings
            {
                Command = parse.GetValue(HealthCmd) is { } cmd ? ["/bin/sh", "-c", cmd] : null,
                Interval = parse.GetValue(HealthInterval) is { } interval ? ParseDuration(interval) : null,
                Retries = parse.GetValue(HealthRetries),
            },
            StopTimeout = parse.GetValue(StopTimeout),
            Labels = labels,
        };
    }

    static TimeSpan ParseDuration(string text)
    {
        var unit = text.TrimStart("0123456789.".ToCharArray());
        var number = double.Parse(text[..^unit.Length], CultureInfo.InvariantCulture);
        return unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" or "" => TimeSpan.FromSeconds(number),
            "m" => TimeSpan.FromMinutes(number),
            "h" => TimeSpan.FromHours(number),
            _ => throw new ArgumentException($"duration \"{text}\" has an unknown unit (ms, s, m, h)"),
        };
    }
}
