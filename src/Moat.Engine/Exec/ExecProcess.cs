using Moat.Engine.Store;
using Moat.Images.Bundles;
using Moat.Monitor.Protocol;
using Moat.Oci;
using Moat.Oci.Json;

namespace Moat.Engine.Exec;

/// <summary>What `moat exec` asked: the command and docker's -t, -u, -e, -w, --privileged.</summary>
public sealed record ExecRequest
{
    public required IReadOnlyList<string> Command { get; init; }
    public bool Tty { get; init; }
    public bool Interactive { get; init; }
    public bool Detach { get; init; }
    public string? User { get; init; }
    public IReadOnlyList<string> Env { get; init; } = [];
    public string? WorkingDir { get; init; }
}

/// <summary>
/// The process an exec runs, built as docker builds it: the container's own process (capabilities,
/// no_new_privs, rlimits, apparmor/selinux labels, environment, user, cwd) with the exec's command, terminal,
/// user (resolved in the container's rootfs), extra environment and working directory on top.
/// </summary>
public static class ExecProcess
{
    public static Process Build(string containerDirectory, ExecRequest request)
    {
        if (request.Command.Count == 0)
            throw new EngineException("exec needs a command to run");
        var bundle = Path.Combine(containerDirectory, ContainerFiles.Bundle);
        var spec = SpecJson.ReadSpec(File.ReadAllBytes(Bundle.ConfigPath(bundle)));
        var process = spec.Process ?? throw new EngineException("the container's config.json has no process");
        process.Args = [.. request.Command];
        process.Terminal = request.Tty;
        process.ConsoleSize = null;
        var env = new List<string>(process.Env ?? []);
        if (request.Tty && !env.Any(e => e.StartsWith("TERM=", StringComparison.Ordinal)))
            env.Add("TERM=xterm");
        foreach (var entry in request.Env)
        {
            var eq = entry.IndexOf('=');
            if (eq <= 0)
                throw new EngineException($"environment entry \"{entry}\" is not KEY=VALUE");
            env.RemoveAll(e => e.StartsWith(entry[..(eq + 1)], StringComparison.Ordinal));
            env.Add(entry);
        }
        process.Env = env;
        if (request.WorkingDir is { } cwd)
        {
            if (!cwd.StartsWith('/'))
                throw new EngineException($"working directory \"{cwd}\" is not an absolute path");
            process.Cwd = cwd;
        }
        if (request.User is { } user)
        {
            var rootfs = spec.Root?.Path is { } root ? Path.GetFullPath(Path.Combine(bundle, root)) : Path.Combine(containerDirectory, "merged");
            var resolved = ImageUser.Resolve(rootfs, user);
            process.User = new User { Uid = resolved.Uid, Gid = resolved.Gid, AdditionalGids = resolved.AdditionalGids.Count > 0 ? [.. resolved.AdditionalGids] : null };
        }
        return process;
    }

    /// <summary>Writes the process where the runtime's `exec --process` reads it; the caller deletes it after.</summary>
    public static string WriteFile(string containerDirectory, Process process)
    {
        var path = Path.Combine(containerDirectory, $".exec-{Guid.NewGuid():N}.json");
        using var stream = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(stream))
            SpecJson.Write(writer, process);
        File.WriteAllBytes(path, stream.ToArray());
        return path;
    }
}
