using Moat.Oci;

namespace Moat.Engine.Run.Flags;

/// <summary>
/// `--sysctl NAME=VALUE`, allowed only where the kernel keeps the setting per namespace (docker's rules):
/// net.* in the container's own network namespace, the System V IPC and POSIX queue settings in its own IPC
/// namespace, kernel.domainname in its own UTS namespace. Anything else would change the whole host.
/// </summary>
public static class Sysctls
{
    static readonly string[] Ipc = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"];

    public static KeyValuePair<string, string> Parse(string text, IReadOnlyCollection<string> hostNamespaces)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0)
            throw new RunFlagException($"--sysctl \"{text}\" is not NAME=VALUE");
        // Both spellings are the same setting (net/ipv4/ip_forward); the spec takes dots.
        var name = text[..eq].Trim().Replace('/', '.');
        var value = text[(eq + 1)..];
        string? needs = name switch
        {
            _ when name.StartsWith("net.", StringComparison.Ordinal) => NamespaceType.Network,
            _ when Ipc.Contains(name) || name.StartsWith("fs.mqueue.", StringComparison.Ordinal) => NamespaceType.Ipc,
            "kernel.domainname" => NamespaceType.Uts,
            _ => null,
        };
        if (name == "kernel.hostname")
            throw new RunFlagException("--sysctl kernel.hostname: set the hostname with --hostname");
        if (needs is null)
            throw new RunFlagException($"--sysctl {name} is not namespaced: setting it would change the host (allowed: net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, kernel.domainname)");
        if (hostNamespaces.Contains(needs))
            throw new RunFlagException($"--sysctl {name} cannot be set in a container that shares the host's {needs} namespace");
        return new(name, value);
    }
}
