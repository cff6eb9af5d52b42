using Moat.Oci;

namespace Moat.Images.Bundles;

/// <summary>
/// What a `run`/`create` changes about the image's defaults. Null means "as the image says" (or, for the
/// security settings, "as <see cref="SecureDefaults"/> says"). `moat run`'s flags fill it in
/// (src/Moat.Cli/Commands/RunFlags.cs); the engine adds the resolved mounts.
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

    /// <summary>
    /// `--privileged`, as docker has it: every capability, no seccomp filter, no masked or read-only
    /// paths, /sys and the cgroup tree writable, every host device created and allowed.
    /// </summary>
    public bool Privileged { get; init; }
    /// <summary>no_new_privs: setuid binaries and file capabilities cannot raise privileges. `--security-opt no-new-privileges=false` turns it off.</summary>
    public bool NoNewPrivileges { get; init; } = true;
    /// <summary>`--security-opt seccomp=unconfined`: no filter at all.</summary>
    public bool SeccompUnconfined { get; init; }
    /// <summary>`--security-opt seccomp=FILE`, already converted and resolved for the container's capabilities; null: the default profile.</summary>
    public LinuxSeccomp? Seccomp { get; init; }
    /// <summary>`--security-opt apparmor=PROFILE`; null or "unconfined": none is written.</summary>
    public string? AppArmorProfile { get; init; }
    /// <summary>`--security-opt label=user:..,role:..,type:..,level:..` joined as an SELinux context; null: none.</summary>
    public string? SelinuxLabel { get; init; }
    /// <summary>`--security-opt label=disable`.</summary>
    public bool LabelDisabled { get; init; }
    /// <summary>`--security-opt mask=/a:/b`: paths masked in addition to the defaults.</summary>
    public IReadOnlyList<string> MaskPaths { get; init; } = [];
    /// <summary>`--security-opt unmask=/a:/b` or ALL: default masked or read-only paths left visible and writable.</summary>
    public IReadOnlyList<string> UnmaskPaths { get; init; } = [];

    /// <summary>`--memory`, bytes; null: no limit.</summary>
    public long? MemoryLimit { get; init; }
    /// <summary>`--memory-swap`: memory plus swap, bytes; -1 unlimited; null: docker's default (twice the memory limit, when one is set).</summary>
    public long? MemorySwap { get; init; }
    /// <summary>`--memory-reservation`, bytes (a soft limit).</summary>
    public long? MemoryReservation { get; init; }
    /// <summary>`--cpus` as a CFS quota over <see cref="CpuPeriod"/> (microseconds).</summary>
    public long? CpuQuota { get; init; }
    public ulong? CpuPeriod { get; init; }
    /// <summary>`--cpu-shares` (relative weight, 1024 is the default).</summary>
    public ulong? CpuShares { get; init; }
    /// <summary>`--cpuset-cpus` ("0-2,4").</summary>
    public string? CpusetCpus { get; init; }
    /// <summary>`--cpuset-mems`.</summary>
    public string? CpusetMems { get; init; }
    /// <summary>`--shm-size`, bytes of the /dev/shm tmpfs; null: 64 MiB.</summary>
    public long? ShmSize { get; init; }
    /// <summary>`--ulimit`: rlimits set over the default RLIMIT_NOFILE (a name given replaces it).</summary>
    public IReadOnlyList<Ulimit> Ulimits { get; init; } = [];
    /// <summary>`--oom-score-adj` (-1000 to 1000).</summary>
    public int? OomScoreAdj { get; init; }
    /// <summary>`--sysctl` name=value, checked to be namespaced.</summary>
    public IReadOnlyDictionary<string, string> Sysctls { get; init; } = new Dictionary<string, string>();
    /// <summary>`--group-add`: group names (looked up in the image) or gids added to the process.</summary>
    public IReadOnlyList<string> GroupAdd { get; init; } = [];

    /// <summary>`--device`: host device nodes created in the container (and allowed in the device cgroup).</summary>
    public IReadOnlyList<DeviceNode> Devices { get; init; } = [];
    /// <summary>`--device-cgroup-rule`: further device cgroup rules, after the defaults and the devices' own.</summary>
    public IReadOnlyList<LinuxDeviceCgroup> DeviceCgroupRules { get; init; } = [];

    /// <summary>
    /// Host namespaces the container shares instead of getting its own (NamespaceType names: network, pid,
    /// ipc, uts): `--network host`, `--pid host`, `--ipc host`, `--uts host`.
    /// </summary>
    public IReadOnlyList<string> HostNamespaces { get; init; } = [];
    /// <summary>`--userns auto|keep-id`: the user namespace's uid mappings; empty: no user namespace.</summary>
    public IReadOnlyList<LinuxIdMapping> UidMappings { get; init; } = [];
    public IReadOnlyList<LinuxIdMapping> GidMappings { get; init; } = [];

    /// <summary>Mounts after the defaults, already resolved (volume sources are host paths); one at a default's destination replaces it.</summary>
    public IReadOnlyList<Mount> Mounts { get; init; } = [];

    /// <summary>`--init`: Moat's reaper runs as pid 1 and starts the command as its child.</summary>
    public bool Init { get; init; }
    /// <summary>The reaper's host path (bin/moat-init), bind-mounted read-only at <see cref="InitPathInContainer"/>; needed with <see cref="Init"/>.</summary>
    public string? InitBinary { get; init; }

    public const string DefaultHostname = "moat";
    /// <summary>Where `--init` puts the reaper: docker's own spot for its docker-init (tini), so tools that look there find it.</summary>
    public const string InitPathInContainer = "/sbin/docker-init";
}

/// <summary>One `--ulimit`: an RLIMIT_* name and its soft and hard limits (<see cref="Rlimits.Infinity"/> for unlimited).</summary>
public sealed record Ulimit(string Type, ulong Soft, ulong Hard);

/// <summary>A host device node as it appears in the container: its path there, type (c or b), numbers, mode and the access allowed.</summary>
public sealed record DeviceNode(string ContainerPath, string Type, long Major, long Minor, uint FileMode, uint Uid, uint Gid, string Access)
{
    /// <summary>The host path it was taken from, for messages and the warnings.</summary>
    public string HostPath { get; init; } = ContainerPath;
}
