using Moat.Runtime.Cli.Parsing;

namespace Moat.Runtime.Cli;

/// <summary>runc's global flags, accepted before or after the command name.</summary>
public static class GlobalOptions
{
    public static readonly Option<string> Root = new("--root")
    {
        Description = "root directory for storage of container state (this should be located in tmpfs)",
        DefaultValueFactory = _ => Moat.Runtime.State.StateStore.DefaultRoot(),
        Recursive = true,
    };

    public static readonly Option<string?> Log = new("--log")
    {
        Description = "set the log file to write moat logs to (default is stderr)",
        Recursive = true,
    };

    public static readonly Option<string> LogFormat = new("--log-format")
    {
        Description = "set the log format ('text' (default), or 'json')",
        DefaultValueFactory = _ => "text",
        Recursive = true,
    };

    public static readonly Option<bool> Debug = new("--debug")
    {
        Description = "enable debug logging",
        Recursive = true,
    };

    public static readonly Option<bool> SystemdCgroup = new("--systemd-cgroup")
    {
        Description = "enable systemd cgroup support (not available yet: gives an error)",
        Recursive = true,
    };

    public static readonly Option<string?> Isolation = new("--isolation")
    {
        Description = "isolation tier of new containers: container (default), sandbox or vm; also chosen by the annotation run.moat.isolation or by running as moat-runtime-sandbox or moat-runtime-vm",
        Recursive = true,
    };

    public static readonly Option<string?> SandboxPolicy = new("--sandbox-policy")
    {
        Description = "the sandbox policy (YAML or JSON, docs/sandbox.md) of new sandboxed containers; also the annotation run.moat.sandbox.policy; default: made from the config",
        Recursive = true,
    };

    public static readonly Option<string?> Rootless = new("--rootless")
    {
        Description = "ignore cgroup permission errors ('true', 'false', or 'auto'); accepted for runc compatibility",
        Recursive = true,
    };

    public static readonly Option<string?> Criu = new("--criu")
    {
        Description = "path to the criu binary; accepted for runc compatibility (checkpoint is not supported)",
        Recursive = true,
        Hidden = true,
    };

    static GlobalOptions()
    {
        LogFormat.AcceptOnlyFromAmong("text", "json");
    }

    /// <summary>Whether a global option, written without "=", takes the next argument as its value.</summary>
    public static bool TakesValue(string arg) => arg is "--root" or "--log" or "--log-format" or "--isolation" or "--sandbox-policy" or "--rootless" or "--criu";

    public static void AddTo(Command root)
    {
        foreach (var option in new Option[] { Root, Log, LogFormat, Debug, SystemdCgroup, Isolation, SandboxPolicy, Rootless, Criu })
            root.Options.Add(option);
    }
}
