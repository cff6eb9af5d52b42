using Moat.Images.Model;

namespace Moat.Images.Bundles;

/// <summary>The process's command line, environment and working directory, merged as Docker and Podman merge them.</summary>
internal static class ProcessSettings
{
    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>
    /// Entrypoint + Cmd. An overridden entrypoint drops the image's Cmd (it was written for the image's
    /// entrypoint); an overridden command replaces Cmd only.
    /// </summary>
    public static List<string> Args(ContainerConfig? image, BundleOptions options)
    {
        var entrypoint = options.Entrypoint ?? image?.Entrypoint ?? [];
        var command = options.Command ?? (options.Entrypoint is null ? image?.Cmd : null) ?? [];
        var args = entrypoint.Concat(command).ToList();
        if (args.Count == 0)
            throw new BundleException("no command to run: the image has neither Entrypoint nor Cmd, and none was given");
        if (args[0].Length == 0)
            throw new BundleException("the command to run is an empty string");
        return args;
    }

    /// <summary>
    /// Docker's order: PATH, HOSTNAME and (with a terminal) TERM first, then the image's Env and the
    /// options' on top (a key already there is replaced in place), then HOME from passwd if still missing.
    /// </summary>
    public static List<string> Env(ContainerConfig? image, BundleOptions options, string hostname, string home)
    {
        var env = new List<string> { DefaultPath, "HOSTNAME=" + hostname };
        if (options.Terminal)
            env.Add("TERM=xterm");
        foreach (var entry in image?.Env ?? [])
            Set(env, entry, "the image's Env");
        foreach (var entry in options.Env)
            Set(env, entry, "the environment given");
        if (!Has(env, "HOME"))
            env.Add("HOME=" + home);
        return env;
    }

    public static string WorkingDir(ContainerConfig? image, BundleOptions options)
    {
        var cwd = options.WorkingDir ?? image?.WorkingDir;
        if (string.IsNullOrEmpty(cwd))
            return "/";
        if (!cwd.StartsWith('/'))
            throw new BundleException($"working directory \"{cwd}\" is not an absolute path");
        return cwd;
    }

    static void Set(List<string> env, string entry, string source)
    {
        var eq = entry.IndexOf('=');
        if (eq <= 0)
            throw new BundleException($"{source} has \"{entry}\", which is not KEY=VALUE");
        var key = entry[..(eq + 1)];
        var index = env.FindIndex(e => e.StartsWith(key, StringComparison.Ordinal));
        if (index >= 0)
            env[index] = entry;
        else
            env.Add(entry);
    }

    static bool Has(List<string> env, string key) =>
        env.Exists(e => e.Length > key.Length && e[key.Length] == '=' && e.StartsWith(key, StringComparison.Ordinal));
}
