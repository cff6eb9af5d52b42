namespace Moat.Images.Bundles;

/// <summary>
/// What a `run`/`create` changes about the image's defaults. Null means "as the image says". The engine
/// issue adds more (mounts, networks, resources, user namespaces...).
/// </summary>
public sealed record BundleOptions
{
    /// <summary>Replaces the image's Entrypoint; also clears the image's Cmd (as `docker run --entrypoint` does). Empty: no entrypoint.</summary>
    public IReadOnlyList<string>? Entrypoint { get; init; }
    /// <summary>Replaces the image's Cmd (the arguments after the image name).</summary>
    public IReadOnlyList<string>? Command { get; init; }
    /// <summary>KEY=VALUE entries set after the image's (a key already there is replaced in place).</summary>
    public IReadOnlyList<string> Env { get; init; } = [];
    /// <summary>user, uid, user:group or uid:gid, resolved in the image; null keeps the image's User.</summary>
    public string? User { get; init; }
    /// <summary>Absolute path inside the container; null keeps the image's WorkingDir (default /).</summary>
    public string? WorkingDir { get; init; }
    /// <summary>The container's hostname, also exported as HOSTNAME; null gives <see cref="DefaultHostname"/>.</summary>
    public string? Hostname { get; init; }
    public bool ReadOnlyRootfs { get; init; }
    /// <summary>Allocate a terminal (TERM=xterm is then set unless given).</summary>
    public bool Terminal { get; init; }
    /// <summary>Capabilities added to Docker's default set: CAP_NAME, NAME (any case) or ALL.</summary>
    public IReadOnlyList<string> CapAdd { get; init; } = [];
    /// <summary>Capabilities removed from Docker's default set: CAP_NAME, NAME (any case) or ALL.</summary>
    public IReadOnlyList<string> CapDrop { get; init; } = [];
    /// <summary>
    /// The pids cgroup limit: Podman's default 2048 keeps a fork bomb inside the container from
    /// exhausting the host's pid space (Docker sets none). 0 or negative: no limit.
    /// </summary>
    public long PidsLimit { get; init; } = 2048;
    /// <summary>Extra annotations, set last (they win over the image's).</summary>
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    public const string DefaultHostname = "moat";
}
