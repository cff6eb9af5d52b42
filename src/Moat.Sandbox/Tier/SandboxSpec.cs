using Moat.Oci;
using Moat.Runtime;
using Moat.Sandbox.Policy;
using Moat.Sandbox.Profile;

namespace Moat.Sandbox.Tier;

/// <summary>
/// What the sandbox tier changes in a container's config before the container tier makes it: a user
/// namespace always (container root is an unprivileged range on the host), a pid namespace of its own
/// (the supervisor holds its init; its death takes the namespace down), no_new_privs, the sandbox's
/// seccomp profile in place of the config's, and the policy's hidden paths masked.
/// </summary>
public static class SandboxSpec
{
    /// <summary>The host range container ids map to when the config brings no user namespace mapping.</summary>
    public const uint DefaultHostId = 100000, DefaultRangeSize = 65536;

    /// <summary>Whether <see cref="Apply"/> will give the container id maps of the tier's own (the config has none and joins no user namespace).</summary>
    public static bool AddsUserNamespace(Spec spec)
    {
        var user = spec.Linux?.Namespaces?.FirstOrDefault(n => n.Type == NamespaceType.User);
        return user?.Path is not { Length: > 0 } && spec.Linux?.UidMappings is not { Count: > 0 };
    }

    public static void Apply(Spec spec, SandboxPolicy policy, string listenerPath, bool waitKillable, Action<string>? debug)
    {
        var linux = spec.Linux ??= new Linux();
        var namespaces = linux.Namespaces ??= [];
        if (namespaces.FirstOrDefault(n => n.Type == NamespaceType.Pid) is { Path: { Length: > 0 } })
            throw new RuntimeException("the sandbox tier needs a pid namespace of its own: linux.namespaces joins one by path");
        if (!namespaces.Any(n => n.Type == NamespaceType.Pid))
            namespaces.Add(new LinuxNamespace { Type = NamespaceType.Pid });
        if (!namespaces.Any(n => n.Type == NamespaceType.Mount))
            namespaces.Add(new LinuxNamespace { Type = NamespaceType.Mount });
        var user = namespaces.FirstOrDefault(n => n.Type == NamespaceType.User);
        if (user is null)
            namespaces.Add(new LinuxNamespace { Type = NamespaceType.User });
        if (user?.Path is not { Length: > 0 })
        {
            if (linux.UidMappings is not { Count: > 0 })
                linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = DefaultHostId, Size = DefaultRangeSize }];
            if (linux.GidMappings is not { Count: > 0 })
                linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = DefaultHostId, Size = DefaultRangeSize }];
        }
        var process = spec.Process ?? throw new RuntimeException("process: the sandbox tier needs a process to run");
        process.NoNewPrivileges = true;
        if (linux.Seccomp is not null)
            debug?.Invoke("the sandbox tier replaces linux.seccomp with its own allow-list and supervisor (docs/sandbox.md)");
        linux.Seccomp = SandboxSyscalls.Profile(listenerPath, waitKillable);
        if (policy.Hidden.Count > 0)
            linux.MaskedPaths = [.. (linux.MaskedPaths ?? []), .. policy.Hidden.Where(h => !(linux.MaskedPaths ?? []).Contains(h))];
    }
}
