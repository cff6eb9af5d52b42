using Moat.Oci;
using Moat.Oci.Json;

namespace Moat.Runtime.Exec;

/// <summary>exec's flags that change the process (runc's), as given on the command line; null or empty when not given.</summary>
public sealed class ExecProcessFlags
{
    public bool Tty { get; init; }
    public string? Cwd { get; init; }
    public IReadOnlyList<string> Env { get; init; } = [];
    public string? User { get; init; }
    public IReadOnlyList<string> AdditionalGids { get; init; } = [];
    public IReadOnlyList<string> Caps { get; init; } = [];
    public bool NoNewPrivileges { get; init; }
    public string? Apparmor { get; init; }
    public string? ProcessLabel { get; init; }

    /// <summary>The first flag that is given, by its name, or null when none is.</summary>
    public string? FirstGiven() =>
        Tty ? "--tty" : Cwd is not null ? "--cwd" : Env.Count > 0 ? "--env" : User is not null ? "--user"
        : AdditionalGids.Count > 0 ? "--additional-gids" : Caps.Count > 0 ? "--cap" : NoNewPrivileges ? "--no-new-privs"
        : Apparmor is not null ? "--apparmor" : ProcessLabel is not null ? "--process-label" : null;
}

/// <summary>
/// The process an exec runs, as runc 1.1 builds it: with --process, the file's process as given; without
/// it, the container's process (a deep copy through the OCI codec, so no field is lost) with its args
/// replaced, no terminal unless --tty, and the flags applied.
/// </summary>
public static class ExecProcess
{
    /// <summary>
    /// The --process file, used as given. runc ignores the process flags and a command beside it, and
    /// engines rely on that: conmon passes --tty with a process file whose terminal is set. So do we,
    /// with a warning for each one that the file contradicts or that has no effect (a --tty that
    /// agrees with the file says nothing new and is not warned about).
    /// </summary>
    public static Process FromFile(ReadOnlySpan<byte> json, string fileName, ExecProcessFlags flags, IReadOnlyList<string> args, Action<string>? warn = null)
    {
        Process process;
        try
        {
            process = SpecJson.ReadProcess(json);
        }
        catch (SpecJsonException e)
        {
            throw new RuntimeException($"--process {fileName}: {e.Message}");
        }
        if (args.Count > 0)
            warn?.Invoke($"the command \"{args[0]}\" is ignored: with --process, the process file's args are run");
        if (flags.Tty && !process.Terminal)
            warn?.Invoke("--tty is ignored: with --process, the process file's \"terminal\" decides (it is false)");
        if (new ExecProcessFlags { Cwd = flags.Cwd, Env = flags.Env, User = flags.User, AdditionalGids = flags.AdditionalGids, Caps = flags.Caps,
                NoNewPrivileges = flags.NoNewPrivileges, Apparmor = flags.Apparmor, ProcessLabel = flags.ProcessLabel }.FirstGiven() is { } flag)
            warn?.Invoke($"{flag} is ignored: with --process, the process file is used as given (set the field there)");
        return process;
    }

    /// <summary>The container's process with <paramref name="args"/> and the flags.</summary>
    public static Process FromContainer(Process? containerProcess, IReadOnlyList<string> args, ExecProcessFlags flags, Action<string>? warn = null)
    {
        var process = containerProcess is null ? new Process() : SpecMerge.Copy(containerProcess);
        process.Args = [.. args];
        // The container's terminal belongs to its init; an exec gets one only when asked.
        process.Terminal = flags.Tty;
        if (flags.Cwd is { } cwd)
            process.Cwd = cwd;
        foreach (var variable in flags.Env)
        {
            var name = variable.Split('=', 2)[0];
            process.Env = [.. (process.Env ?? []).Where(e => e.Split('=', 2)[0] != name), variable];
        }
        if (flags.User is { } user)
        {
            var parts = user.Split(':', 2);
            if (!uint.TryParse(parts[0], out var uid) || (parts.Length == 2 && !uint.TryParse(parts[1], out _)))
                throw new RuntimeException($"--user \"{user}\": expected <uid>[:<gid>] as numbers");
            process.User.Uid = uid;
            if (parts.Length == 2)
                process.User.Gid = uint.Parse(parts[1]);
        }
        foreach (var gids in flags.AdditionalGids)
            foreach (var gid in gids.Split(',', StringSplitOptions.RemoveEmptyEntries))
                process.User.AdditionalGids = [.. process.User.AdditionalGids ?? [],
                    uint.TryParse(gid, out var g) ? g : throw new RuntimeException($"--additional-gids \"{gid}\" is not a number")];
        foreach (var cap in flags.Caps)
        {
            var name = cap.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? cap.ToUpperInvariant() : "CAP_" + cap.ToUpperInvariant();
            // A capability that cannot be granted is a warning, not a failure (runtime-spec, runc):
            // the unknown name here, the rest where the runtime reduces the sets before the spawn.
            if (!Capabilities.IsKnown(name))
            {
                warn?.Invoke($"--cap \"{cap}\": unknown capability; dropped");
                continue;
            }
            process.Capabilities ??= new LinuxCapabilities();
            process.Capabilities.Bounding = [.. process.Capabilities.Bounding ?? [], name];
            process.Capabilities.Effective = [.. process.Capabilities.Effective ?? [], name];
            process.Capabilities.Permitted = [.. process.Capabilities.Permitted ?? [], name];
            // Ambient needs the capability inheritable too: raise it only where the process's
            // inheritable set names it (runc adds it whenever there is an inheritable set, and
            // ignores the failing raise).
            if (process.Capabilities.Inheritable?.Contains(name) == true)
                process.Capabilities.Ambient = [.. process.Capabilities.Ambient ?? [], name];
        }
        if (flags.NoNewPrivileges)
            process.NoNewPrivileges = true;
        if (flags.Apparmor is { } profile)
            process.ApparmorProfile = profile;
        if (flags.ProcessLabel is { } label)
            process.SelinuxLabel = label;
        return process;
    }
}
