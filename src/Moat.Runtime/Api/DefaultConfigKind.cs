namespace Moat.Runtime.Api;

/// <summary>Which starter config `spec` writes (<see cref="ContainerRuntime.DefaultConfig"/>).</summary>
public enum DefaultConfigKind
{
    /// <summary>root's default: a user namespace maps container root to unprivileged host ids.</summary>
    MappedRoot,
    /// <summary>`spec --host-root`: runc's config as `runc spec` writes it, container root is host root.</summary>
    HostRoot,
    /// <summary>`spec --rootless`: container root is the caller's own uid (runc spec --rootless).</summary>
    Rootless,
}
