using Moat.Images.Bundles;
using Moat.Monitor.Protocol;

namespace Moat.Engine.Run;

/// <summary>
/// Everything `moat run` / `moat create` was asked, parsed and checked (flags in src/Moat.Cli/Commands/RunFlags.cs,
/// their value grammars in Run/Flags/): what shapes the config.json (<see cref="Bundle"/>) and what the
/// engine itself does (name, attach, restart, health, logs, volumes, network, tier). Nothing here has
/// touched the store yet: named volumes are still names (<see cref="Mounts"/>), the image is still a reference.
/// </summary>
public sealed record RunRequest
{
    /// <summary>The image reference as typed (name, name:tag, name@digest or an image id).</summary>
    public required string Image { get; init; }
    /// <summary>
    /// The config's shape apart from mounts: entrypoint, command, env, user, workdir, hostname, caps,
    /// privileged, security options, resources, ulimits, devices, user namespace, host namespaces...
    /// The engine adds the resolved <see cref="Mounts"/> and its own annotations before building the spec.
    /// </summary>
    public required BundleOptions Bundle { get; init; }
    /// <summary>`-v`, `--mount`, `--tmpfs` in the order given; volume sources are names the engine resolves.</summary>
    public IReadOnlyList<MountRequest> Mounts { get; init; } = [];
    /// <summary>`--name`; null: the engine makes one (adjective_noun as docker does).</summary>
    public string? Name { get; init; }
    /// <summary>`-d`.</summary>
    public bool Detach { get; init; }
    /// <summary>`-i`: keep stdin open and attach it.</summary>
    public bool Interactive { get; init; }
    /// <summary>`-t`.</summary>
    public bool Tty { get; init; }
    /// <summary>`--rm`.</summary>
    public bool Remove { get; init; }
    public RestartPolicy Restart { get; init; } = new();
    /// <summary>The health check after the flags were applied over the image's HEALTHCHECK; null: none (or `--no-healthcheck`).</summary>
    public HealthSettings Health { get; init; } = new();
    /// <summary>`--label k=v` and `--label-file`.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>`--stop-signal`; null: the image's StopSignal, else SIGTERM.</summary>
    public string? StopSignal { get; init; }
    /// <summary>`--stop-timeout` in seconds; null: 10.</summary>
    public int? StopTimeout { get; init; }
    /// <summary>`--network`: none, host, container:NAME, or a network's name (comma-separated for several); null: the default network, bridge.</summary>
    public string? Network { get; init; }
    /// <summary>`-p`: ports to publish (Moat.Network's grammar); host port 0: a free one.</summary>
    public IReadOnlyList<Moat.Network.PortMapping> Publish { get; init; } = [];
    /// <summary>`-P`: every port the image exposes, on free host ports.</summary>
    public bool PublishAll { get; init; }
    /// <summary>`--egress`: null no policy; empty deny all; else only these destinations.</summary>
    public List<Moat.Network.EgressRule>? Egress { get; init; }
    /// <summary>`--isolation`: container, sandbox, vm.</summary>
    public string Isolation { get; init; } = "container";
    /// <summary>`--log-driver`: k8s-file (default), json-file, none.</summary>
    public string LogDriver { get; init; } = LogDrivers.K8sFile;
    /// <summary>`--log-opt max-size=...`; 0: no rotation.</summary>
    public long LogMaxSize { get; init; }
    /// <summary>`--log-opt max-file=...`.</summary>
    public int LogMaxFiles { get; init; } = 1;
    /// <summary>`--init`: Moat's reaper is pid 1 and runs the command as its child.</summary>
    public bool Init { get; init; }
    /// <summary>`--pull`: missing (default), always, never.</summary>
    public string Pull { get; init; } = "missing";
    /// <summary>`--platform`.</summary>
    public string? Platform { get; init; }
    /// <summary>`--cidfile`.</summary>
    public string? CidFile { get; init; }
    /// <summary>`--runtime`: the OCI runtime's executable; null: bin/moat-runtime next to moat.</summary>
    public string? Runtime { get; init; }
    /// <summary>`--add-host NAME:IP`, lines for the container's /etc/hosts (the engine writes the file; IP may be host-gateway).</summary>
    public IReadOnlyList<HostEntry> AddHosts { get; init; } = [];
    /// <summary>`--dns IP`: nameservers for the container's /etc/resolv.conf (the engine writes it); empty: the host's.</summary>
    public IReadOnlyList<string> Dns { get; init; } = [];
    /// <summary>`--dns-search DOMAIN`.</summary>
    public IReadOnlyList<string> DnsSearch { get; init; } = [];
    /// <summary>`--dns-option OPTION` (resolv.conf's options line).</summary>
    public IReadOnlyList<string> DnsOptions { get; init; } = [];
    /// <summary>
    /// One sentence per flag that loosens a secure default (`--privileged`, `--cap-add SYS_ADMIN`,
    /// `seccomp=unconfined`, a host namespace, a bind mount of `/`, a container-engine socket, `/proc`...),
    /// computed by the flag parser; the engine prints them as warnings before it creates anything.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>`--ignore-limits`: rootless without a delegated cgroup, run without the limits (a warning) instead of refusing.</summary>
    public bool IgnoreLimits { get; init; }
    /// <summary>Whether `--pids-limit` was given: the default one is left out where the user has no pids cgroup.</summary>
    public bool PidsLimitGiven { get; init; }
    /// <summary>`--audit`, `--scan`, the trust policy, `--seccomp-record`: called before the container exists (see <see cref="ICreateChecks"/>); null: none.</summary>
    public ICreateChecks? Checks { get; init; }
}

/// <summary>One /etc/hosts line from `--add-host`.</summary>
public sealed record HostEntry(string Name, string Address);

/// <summary>A mount as `run` was asked for it.</summary>
public sealed record MountRequest
{
    /// <summary>bind, volume or tmpfs.</summary>
    public required string Type { get; init; }
    /// <summary>bind: an absolute host path; volume: a volume's name, or null for an anonymous volume; tmpfs: null.</summary>
    public string? Source { get; init; }
    /// <summary>Absolute path in the container.</summary>
    public required string Target { get; init; }
    public bool ReadOnly { get; init; }
    /// <summary>Further mount options as the OCI config takes them: rprivate/rshared/rslave..., nosuid, size=64m, mode=1777, z/Z, U...</summary>
    public IReadOnlyList<string> Options { get; init; } = [];
}

/// <summary>docker's health flags over the image's HEALTHCHECK.</summary>
public sealed record HealthSettings
{
    /// <summary>`--health-cmd` as argv (`CMD-SHELL x` → /bin/sh -c x); null: the image's, if any.</summary>
    public IReadOnlyList<string>? Command { get; init; }
    public TimeSpan? Interval { get; init; }
    public TimeSpan? Timeout { get; init; }
    public TimeSpan? StartPeriod { get; init; }
    public int? Retries { get; init; }
    /// <summary>`--no-healthcheck`: none, whatever the image says.</summary>
    public bool Disabled { get; init; }
}
