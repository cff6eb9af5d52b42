using Moat.Oci;

namespace Moat.Audit.Bundle;

/// <summary>
/// A config.json with the facts several rules need worked out once: which namespaces the container owns,
/// whether a user namespace really separates its root from the host's, and every capability it can hold
/// with the first capability set that grants it (the path a finding names).
/// </summary>
public sealed class SpecFacts
{
    public Spec Spec { get; }
    public Linux Linux { get; }
    public Process? Process { get; }

    /// <summary>The trust policy's answer for the container's image, when the caller asked it (the engine, `moat audit NAME`).</summary>
    public ImageProvenance? Image { get; init; }

    /// <summary>Capability name -> "process.capabilities.SET[i]" of the first set holding it.</summary>
    public IReadOnlyDictionary<string, string> Capabilities => capabilities;

    readonly Dictionary<string, string> capabilities = new(StringComparer.Ordinal);
    readonly Dictionary<string, (int Index, LinuxNamespace Namespace)> namespaces = new(StringComparer.Ordinal);

    public SpecFacts(Spec spec)
    {
        Spec = spec;
        Linux = spec.Linux ?? new Linux();
        Process = spec.Process;
        var sets = Process?.Capabilities;
        AddCapabilities(sets?.Effective, "effective");
        AddCapabilities(sets?.Permitted, "permitted");
        AddCapabilities(sets?.Bounding, "bounding");
        AddCapabilities(sets?.Ambient, "ambient");
        AddCapabilities(sets?.Inheritable, "inheritable");
        var list = Linux.Namespaces ?? [];
        for (var i = 0; i < list.Count; i++)
            namespaces.TryAdd(list[i].Type, (i, list[i]));
    }

    void AddCapabilities(List<string>? set, string name)
    {
        if (set is null) return;
        for (var i = 0; i < set.Count; i++)
            capabilities.TryAdd(set[i], $"process.capabilities.{name}[{i}]");
    }

    /// <summary>The container has a namespace of this type that is not the host's (a new one, or one joined by a path that is not the host's).</summary>
    public bool Owns(string type) => namespaces.TryGetValue(type, out var entry) && !IsHostNamespacePath(entry.Namespace.Path);

    /// <summary>Where the config shares the host's namespace: the joined path, or linux.namespaces when the type is absent.</summary>
    public string NamespacePath(string type) =>
        namespaces.TryGetValue(type, out var entry) ? $"linux.namespaces[{entry.Index}].path" : "linux.namespaces";

    /// <summary>The joined path of a namespace entry, if any (for the message).</summary>
    public string? JoinedPath(string type) => namespaces.TryGetValue(type, out var entry) ? entry.Namespace.Path : null;

    /// <summary>/proc/1/ns/X, /proc/self/ns/X (the runtime's own: the host's) are the host's namespaces.</summary>
    public static bool IsHostNamespacePath(string? path) =>
        path is not null && (path.StartsWith("/proc/1/ns/", StringComparison.Ordinal)
            || path.StartsWith("/proc/self/ns/", StringComparison.Ordinal)
            || path.StartsWith("/proc/thread-self/ns/", StringComparison.Ordinal));

    /// <summary>
    /// Container root is not host root: the container owns a user namespace and container uid 0 maps to a
    /// host uid other than 0 (a joined namespace's mapping is not in the config and is trusted).
    /// </summary>
    public bool UserNamespaceSeparatesRoot
    {
        get
        {
            if (!Owns(NamespaceType.User)) return false;
            foreach (var mapping in Linux.UidMappings ?? [])
                if (mapping.ContainerId == 0 && mapping.Size > 0 && mapping.HostId == 0)
                    return false;
            return true;
        }
    }

    public bool RunsAsRoot => Process is { User.Uid: 0 };

    public bool Has(string capability) => capabilities.ContainsKey(capability);

    /// <summary>Is this an effective bind mount (type bind, or a bind/rbind option)?</summary>
    public static bool IsBind(Mount mount) => mount.IsBind();

    public static bool IsReadOnly(Mount mount) => mount.Options?.Contains("ro") == true;
}
