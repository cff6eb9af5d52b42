namespace Moat.Audit.Bundle.Rules;

/// <summary>Host paths that must not be bind-mounted into a container, and the sockets that control container engines.</summary>
public static class HostPaths
{
    /// <summary>Everything inside these trees is sensitive (the CIS 5.5 list plus kernel modules, state of engines, root's home).</summary>
    static readonly string[] SensitiveTrees =
    [
        "/etc", "/proc", "/sys", "/boot", "/dev", "/lib/modules", "/usr/lib/modules", "/root",
        "/var/lib/docker", "/var/lib/containerd", "/var/lib/containers", "/var/lib/kubelet", "/var/lib/moat",
        "/run/containerd", "/run/containers", "/run/docker", "/run/podman", "/run/crio", "/run/moat", "/run/runc", "/run/crun",
    ];

    /// <summary>System directories: sensitive themselves (and through what they contain), as CIS 5.5 lists them.</summary>
    static readonly string[] SensitiveDirectories = ["/", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/var", "/run", "/var/run", "/var/lib", "/usr/bin", "/usr/sbin", "/usr/lib"];

    /// <summary>API sockets of container engines: whoever can connect runs a privileged container.</summary>
    public static readonly string[] EngineSockets =
    [
        "/run/docker.sock", "/run/containerd/containerd.sock", "/run/containerd/containerd.sock.ttrpc", "/run/podman/podman.sock",
        "/run/crio/crio.sock", "/run/buildkit/buildkitd.sock", "/run/cri-dockerd.sock", "/run/dockershim.sock", "/run/moat/moat.sock",
    ];

    // Files an engine bind-mounts from its own per-container state (resolv.conf, hosts...): not the host's.
    static readonly string[] PerContainerFiles = ["resolv.conf", "hostname", "hosts", ".containerenv", "shm", "secrets", "hostconfig.json", "config.v2.json"];

    // The device nodes every container has (Docker's defaults), which rootless engines bind from the host.
    static readonly string[] StandardDevices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/console", "/dev/ptmx"];

    /// <summary>The path cleaned ("//", "/./", trailing "/") with /var/run read as /run (a symlink on every current distribution).</summary>
    public static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(part);
        }
        var clean = "/" + string.Join('/', parts);
        return clean == "/var/run" ? "/run" : clean.StartsWith("/var/run/", StringComparison.Ordinal) ? clean[4..] : clean;
    }

    static bool IsWithin(string path, string tree) => tree == "/" || path == tree || path.StartsWith(tree + "/", StringComparison.Ordinal);

    /// <summary>Why a host source is sensitive, or null. <paramref name="destination"/> exempts a standard device bound onto itself.</summary>
    public static string? WhySensitive(string source, string destination)
    {
        var path = Normalize(source);
        if (StandardDevices.Contains(path) && Normalize(destination) == path) return null;
        if (path is "/dev/shm" or "/dev/mqueue") return null; // the host's IPC: MOAT-A012's business
        foreach (var directory in SensitiveDirectories)
            if (path == Normalize(directory))
                return path == "/" ? "the host's whole file system" : $"the host's system directory {path}";
        foreach (var tree in SensitiveTrees)
        {
            if (!IsWithin(path, tree)) continue;
            var engineState = tree.StartsWith("/var/lib/", StringComparison.Ordinal) || tree.StartsWith("/run/", StringComparison.Ordinal);
            if (path != tree && engineState && PerContainerFiles.Contains(Path.GetFileName(path)))
                return null;
            return path == tree ? $"the host's {tree}" : $"{path}, inside the host's {tree}";
        }
        foreach (var tree in SensitiveTrees)
            if (IsWithin(tree, path))
                return $"{path}, which holds the host's {tree}";
        return null;
    }

    /// <summary>The engine socket a source is, or is the directory of; null otherwise.</summary>
    public static string? EngineSocket(string source)
    {
        var path = Normalize(source);
        foreach (var socket in EngineSockets)
            if (path == socket || (path == Path.GetDirectoryName(socket) && path != "/run"))
                return socket;
        if (path.EndsWith(".sock", StringComparison.Ordinal) && (path.Contains("docker", StringComparison.Ordinal) || path.Contains("podman", StringComparison.Ordinal) || path.Contains("containerd", StringComparison.Ordinal) || path.Contains("crio", StringComparison.Ordinal)))
            return path;
        return null;
    }
}
