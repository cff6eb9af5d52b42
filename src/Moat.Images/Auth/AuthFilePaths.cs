namespace Moat.Images.Auth;

/// <summary>Where podman keeps and looks for credentials (containers-auth.json(5)).</summary>
public static class AuthFilePaths
{
    /// <summary>
    /// The file `login` writes: an explicit `--authfile`, else $REGISTRY_AUTH_FILE, else
    /// ${XDG_RUNTIME_DIR}/containers/auth.json (root: /run/containers/0/auth.json, as podman has it).
    /// </summary>
    public static string Primary(string? explicitPath = null)
    {
        if (!string.IsNullOrEmpty(explicitPath)) return explicitPath;
        if (Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE") is { Length: > 0 } fromEnvironment) return fromEnvironment;
        var uid = Storage.RootlessIdentity.HostUid;
        if (Storage.RootlessIdentity.IsRealRoot) return "/run/containers/0/auth.json";
        var runtimeDirectory = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } x ? x : $"/run/user/{uid}";
        return Path.Combine(runtimeDirectory, "containers", "auth.json");
    }

    /// <summary>
    /// Every file read, most important first: the primary file; unless it was given explicitly, also
    /// $XDG_CONFIG_HOME/containers/auth.json and docker's ~/.docker/config.json (read, never written).
    /// </summary>
    public static IReadOnlyList<string> ReadOrder(string? explicitPath = null)
    {
        var primary = Primary(explicitPath);
        if (!string.IsNullOrEmpty(explicitPath) || Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE") is { Length: > 0 }) return [primary];
        var paths = new List<string> { primary };
        var home = Environment.GetEnvironmentVariable("HOME");
        var configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } c ? c : home is null ? null : Path.Combine(home, ".config");
        if (configHome is not null) paths.Add(Path.Combine(configHome, "containers", "auth.json"));
        var dockerConfig = Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } d ? d : home is null ? null : Path.Combine(home, ".docker");
        if (dockerConfig is not null) paths.Add(Path.Combine(dockerConfig, "config.json"));
        return paths.Distinct().ToList();
    }
}
