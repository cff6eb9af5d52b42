using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Moat.Engine.Run;
using Moat.Engine.Run.Flags;
using Moat.Images.Bundles;
using Moat.Images.Distribution;
using Moat.Interop;
using Moat.Monitor.Protocol;
using Moat.Oci;

namespace Moat.Cli.Commands;

/// <summary>
/// `moat run` and `moat create`'s flags, with docker's and podman's spellings (short and long; a repeated
/// flag accumulates), read into a checked <see cref="RunRequest"/>. Every value is taken as text and
/// parsed by the grammars in Moat.Engine/Run/Flags, so a bad one gets a sentence naming the flag.
/// </summary>
public static class RunFlags
{
    static Option<bool> Bool(string name, string description, params string[] aliases) => new(name, aliases) { Description = description };
    static Option<string?> One(string name, string description, params string[] aliases) => new(name, aliases) { Description = description };
    static Option<string[]> Many(string name, string description, params string[] aliases) => new(name, aliases) { Description = description };

    static readonly Option<bool> Detach = Bool("--detach", "run in the background and print the container id", "-d");
    static readonly Option<bool> Interactive = Bool("--interactive", "keep stdin open and attach it", "-i");
    static readonly Option<bool> Tty = Bool("--tty", "allocate a pseudo-terminal", "-t");
    static readonly Option<bool> Remove = Bool("--rm", "remove the container when it exits");
    static readonly Option<string?> Name = One("--name", "the container's name");
    static readonly Option<string[]> Env = Many("--env", "set an environment variable (KEY=VALUE, or KEY to pass ours)", "-e");
    static readonly Option<string[]> EnvFile = Many("--env-file", "read environment variables from a file (docker's format)");
    static readonly Option<string?> Workdir = One("--workdir", "the working directory in the container", "-w");
    static readonly Option<string?> User = One("--user", "user[:group] or uid[:gid] to run as", "-u");
    static readonly Option<string?> Entrypoint = One("--entrypoint", "replace the image's entrypoint (\"\" clears it)");
    static readonly Option<string?> Hostname = One("--hostname", "the container's hostname", "-h");
    static readonly Option<string[]> Volume = Many("--volume", "bind-mount a host path or mount a volume: [SRC:]DST[:OPTS]", "-v");
    static readonly Option<string[]> Mount = Many("--mount", "attach a mount: type=bind|volume|tmpfs,source=..,target=..[,readonly]");
    static readonly Option<string[]> Tmpfs = Many("--tmpfs", "mount a tmpfs: DST[:OPTS]");
    static readonly Option<bool> IgnoreLimits = Bool("--ignore-limits", "rootless without a delegated cgroup: run without the resource limits asked for (a warning) instead of refusing");
    static readonly Option<bool> ReadOnly = Bool("--read-only", "mount the root filesystem read-only");
    static readonly Option<string[]> CapAdd = Many("--cap-add", "add a capability (or ALL)");
    static readonly Option<string[]> CapDrop = Many("--cap-drop", "drop a capability (or ALL)");
    static readonly Option<bool> Privileged = Bool("--privileged", "give the container every capability and device, without seccomp or masked paths (unsafe)");
    static readonly Option<string[]> SecurityOpt = Many("--security-opt", "no-new-privileges[:false], seccomp=FILE|unconfined, apparmor=, label=, mask=, unmask=");
    static readonly Option<string?> Memory = One("--memory", "memory limit (b, k, m, g)", "-m");
    static readonly Option<string?> MemorySwap = One("--memory-swap", "memory plus swap limit (-1: unlimited swap)");
    static readonly Option<string?> MemoryReservation = One("--memory-reservation", "memory soft limit");
    static readonly Option<string?> CpuCount = One("--cpus", "number of CPUs (1.5: one and a half)");
    static readonly Option<string?> CpuShares = One("--cpu-shares", "relative CPU weight (1024 is the default)", "-c");
    static readonly Option<string?> CpusetCpus = One("--cpuset-cpus", "CPUs to run on (0-3,5)");
    static readonly Option<string?> CpusetMems = One("--cpuset-mems", "memory nodes to use (0-1)");
    static readonly Option<string?> PidsLimit = One("--pids-limit", "most processes in the container (default 2048; -1 or 0: no limit)");
    static readonly Option<string[]> Ulimit = Many("--ulimit", "a resource limit: NAME=SOFT[:HARD] (nofile=1024:2048)");
    static readonly Option<string[]> Device = Many("--device", "give a host device: HOST[:CONTAINER][:rwm]");
    static readonly Option<string[]> DeviceCgroupRule = Many("--device-cgroup-rule", "allow devices in the cgroup: \"c 1:3 rwm\"");
    static readonly Option<string?> Userns = One("--userns", "user namespace: host, auto[:size=N], keep-id (rootless)");
    static readonly Option<string?> Uts = One("--uts", "UTS namespace: host or private");
    static readonly Option<string?> Ipc = One("--ipc", "IPC namespace: host, private or shareable");
    static readonly Option<string?> Pid = One("--pid", "PID namespace: host or private");
    static readonly Option<string?> Network = One("--network", "network: bridge (default), none, host, container:NAME or a network's name (NAME,NAME for several)", "--net");
    static readonly Option<string[]> Publish = Many("--publish", "publish a port: [IP:][HOST:]CONTAINER[/tcp|udp], ranges as 8000-8001:80-81", "-p");
    static readonly Option<bool> PublishAll = Bool("--publish-all", "publish every port the image exposes on a free host port", "-P");
    static readonly Option<string?> Egress = One("--egress", "outbound policy: deny, or allow=CIDR[:PORT],...");
    static readonly Option<string?> Isolation = One("--isolation", "container, sandbox or vm");
    static readonly Option<bool> Init = Bool("--init", "run Moat's reaper as pid 1 (forwards signals, reaps zombies)");
    static readonly Option<string?> RestartPolicy = One("--restart", "no, on-failure[:N], always, unless-stopped");
    static readonly Option<string?> HealthCmd = One("--health-cmd", "command to check health (run by /bin/sh -c)");
    static readonly Option<string?> HealthInterval = One("--health-interval", "time between checks (1m30s)");
    static readonly Option<string?> HealthTimeout = One("--health-timeout", "longest a check may run");
    static readonly Option<string?> HealthRetries = One("--health-retries", "failures in a row before unhealthy");
    static readonly Option<string?> HealthStartPeriod = One("--health-start-period", "time to start before failures count");
    static readonly Option<bool> NoHealthcheck = Bool("--no-healthcheck", "no health check, whatever the image says");
    static readonly Option<string[]> Label = Many("--label", "set a label: KEY=VALUE", "-l");
    static readonly Option<string[]> LabelFile = Many("--label-file", "read labels from a file");
    static readonly Option<string?> StopSignal = One("--stop-signal", "signal to stop the container (default SIGTERM)");
    static readonly Option<string?> StopTimeout = One("--stop-timeout", "seconds to wait before SIGKILL (default 10)");
    static readonly Option<string?> LogDriver = One("--log-driver", "k8s-file (default), json-file or none");
    static readonly Option<string[]> LogOpt = Many("--log-opt", "max-size=SIZE, max-file=N");
    static readonly Option<string?> Pull = One("--pull", "missing (default), always, never, newer");
    static readonly Option<string?> Platform = One("--platform", "os/arch[/variant] of the image to use");
    static readonly Option<string?> CidFile = One("--cidfile", "write the container id to this file");
    static readonly Option<string?> Runtime = One("--runtime", "the OCI runtime to use (default moat-runtime)");
    static readonly Option<string[]> Sysctl = Many("--sysctl", "a namespaced kernel setting: NAME=VALUE");
    static readonly Option<string[]> AddHost = Many("--add-host", "add NAME:IP to /etc/hosts");
    static readonly Option<string[]> Dns = Many("--dns", "a nameserver for /etc/resolv.conf");
    static readonly Option<string[]> DnsSearch = Many("--dns-search", "a search domain for /etc/resolv.conf");
    static readonly Option<string[]> DnsOption = Many("--dns-option", "an option for /etc/resolv.conf");
    static readonly Option<string[]> GroupAdd = Many("--group-add", "an additional group (name or gid)");
    static readonly Option<string?> OomScoreAdj = One("--oom-score-adj", "the OOM killer's adjustment (-1000 to 1000)");
    static readonly Option<string?> ShmSize = One("--shm-size", "size of /dev/shm (default 64m)");
    static readonly Option<string[]> Annotation = Many("--annotation", "an OCI annotation: KEY=VALUE");

    static readonly Option[] All =
    [
        Detach, Interactive, Tty, Remove, Name, Env, EnvFile, Workdir, User, Entrypoint, Hostname, Volume, Mount, Tmpfs, ReadOnly,
        CapAdd, CapDrop, Privileged, SecurityOpt, Memory, MemorySwap, MemoryReservation, CpuCount, CpuShares, CpusetCpus, CpusetMems,
        PidsLimit, Ulimit, Device, DeviceCgroupRule, Userns, Uts, Ipc, Pid, Network, Isolation, Init, RestartPolicy, HealthCmd,
        HealthInterval, HealthTimeout, HealthRetries, HealthStartPeriod, NoHealthcheck, Label, LabelFile, StopSignal, StopTimeout,
        LogDriver, LogOpt, Pull, Platform, CidFile, Runtime, Sysctl, AddHost, Dns, DnsSearch, DnsOption, GroupAdd, OomScoreAdj,
        ShmSize, Annotation, Publish, PublishAll, Egress, IgnoreLimits,
    ];

    /// <summary>Adds every run/create flag to <paramref name="command"/> (the IMAGE and COMMAND arguments are the command's own).</summary>
    public static void AddTo(Command command)
    {
        foreach (var option in All)
            command.Options.Add(option);
    }

    /// <summary>What <see cref="Read(ParseResult, string, IReadOnlyList{string}, Host)"/> takes from the machine; tests give their own.</summary>
    public sealed record Host
    {
        public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
        public int Cpus { get; init; } = System.Environment.ProcessorCount;
        /// <summary>The user's host uid: in the rootless engine's namespace geteuid() says 0.</summary>
        public uint EffectiveUid { get; init; } = Moat.Images.Storage.RootlessIdentity.HostUid;
        public string? UserName { get; init; } = Moat.Images.Storage.RootlessIdentity.Active ? Moat.Images.Storage.RootlessIdentity.UserName : System.Environment.UserName;
        public Func<string?> SubUid { get; init; } = () => ReadOrNull("/etc/subuid");
        public Func<string?> SubGid { get; init; } = () => ReadOrNull("/etc/subgid");
        public Func<IEnumerable<UserNamespaces.Range>> UsedIdRanges { get; init; } = UserNamespaces.InUseOnHost;
        public Func<Version> KernelRelease { get; init; } = SeccompProfileFile.KernelRelease;
        /// <summary>bin/moat-init next to bin/moat.</summary>
        public string InitBinary { get; init; } = Path.Combine(AppContext.BaseDirectory, "moat-init");

        static string? ReadOrNull(string path) => File.Exists(path) ? File.ReadAllText(path) : null;
    }

    /// <summary>The machine as seen by an engine: automatic id ranges also avoid those of its stopped containers.</summary>
    public static Host HostWith(Moat.Engine.Containers.ContainerEngine engine) => new()
    {
        UsedIdRanges = () => UserNamespaces.InUseOnHost().Concat(engine.Images.Snapshots.IdMappedHostRanges().Select(r => new UserNamespaces.Range(r.Start, r.Count))),
    };

    public static RunRequest Read(ParseResult parse, string image, IReadOnlyList<string> command, Host host)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (string.IsNullOrWhiteSpace(image))
            throw new RunFlagException("an image is needed: moat run [OPTIONS] IMAGE [COMMAND [ARG...]]");
        string[] Values(Option<string[]> option) => parse.GetValue(option) ?? [];
        string? Value(Option<string?> option) => parse.GetValue(option);
        var privileged = parse.GetValue(Privileged);

        // Namespaces first: sysctls and the hostname are checked against them.
        var hostNamespaces = new List<string>();
        var network = Value(Network);
        if (network is not null)
        {
            network = NetworkMode(network);
            if (network == "host")
                hostNamespaces.Add(NamespaceType.Network);
        }
        if (SharedNamespace(Value(Uts), "--uts", []))
            hostNamespaces.Add(NamespaceType.Uts);
        if (SharedNamespace(Value(Ipc), "--ipc", ["shareable"]))
            hostNamespaces.Add(NamespaceType.Ipc);
        if (SharedNamespace(Value(Pid), "--pid", []))
            hostNamespaces.Add(NamespaceType.Pid);

        var security = SecurityOptions.Parse(Values(SecurityOpt));
        var capAdd = Values(CapAdd);
        var capDrop = Values(CapDrop);

        var usernsText = Value(Userns);
        var userNamespaceByDefault = UserNamespaces.ByDefault(host.EffectiveUid, host.KernelRelease(), host.Environment(UserNamespaces.DefaultVariable),
            privileged, hostNamespaces, Value(Isolation), capAdd, Values(Sysctl).Select(s => s.Split('=')[0]), network);
        var usernsAsked = usernsText ?? (userNamespaceByDefault ? "auto" : null);
        var userns = usernsAsked is null ? null
            : UserNamespaces.Parse(usernsAsked, usernsAsked.StartsWith("auto", StringComparison.Ordinal) ? host.UsedIdRanges() : [], host.EffectiveUid,
                host.SubUid(), host.SubGid(), host.UserName);
        List<string> capabilities;
        try
        {
            capabilities = privileged ? [.. Capabilities.Names] : DefaultCapabilitySet.Apply(capAdd, capDrop);
        }
        catch (BundleException e)
        {
            throw new RunFlagException(e.Message);
        }
        var seccomp = security.SeccompProfileFile is { } profileFile && !privileged
            ? SeccompProfileFile.Load(profileFile, capabilities.ToHashSet(StringComparer.Ordinal))
            : null;

        var env = new List<string>();
        foreach (var file in Values(EnvFile))
            env.AddRange(EnvFiles.ReadEnvFile(file, host.Environment));
        foreach (var entry in Values(Env))
            if (EnvFiles.Entry(entry, host.Environment) is { } set)
                env.Add(set);

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Values(LabelFile))
            foreach (var (key, value) in EnvFiles.ReadLabelFile(file))
                labels[key] = value;
        foreach (var label in Values(Label))
        {
            var (key, value) = EnvFiles.Label(label);
            labels[key] = value;
        }
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var annotation in Values(Annotation))
        {
            var (key, value) = EnvFiles.Label(annotation, "--annotation");
            annotations[key] = value;
        }

        var mounts = new List<MountRequest>();
        mounts.AddRange(Values(Volume).Select(MountFlags.ParseVolume));
        mounts.AddRange(Values(Mount).Select(MountFlags.ParseMount));
        mounts.AddRange(Values(Tmpfs).Select(MountFlags.ParseTmpfs));
        foreach (var twice in mounts.GroupBy(m => m.Target).Where(g => g.Count() > 1))
            throw new RunFlagException($"two mounts have the destination {twice.Key}");

        var workdir = Value(Workdir);
        if (workdir is not null && !workdir.StartsWith('/'))
            throw new RunFlagException($"--workdir \"{workdir}\" is not an absolute path");
        var hostname = Value(Hostname);
        if (hostname is not null && hostNamespaces.Contains(NamespaceType.Uts))
            throw new RunFlagException("--hostname does not go with --uts host (the container has the host's hostname)");

        var memory = Value(Memory) is { } m ? ByteSize.Parse(m, "--memory") : (long?)null;
        if (memory is < 6 * 1024 * 1024 and not 0)
            throw new RunFlagException("--memory must be at least 6m (the smallest limit a container starts with)");
        if (memory == 0)
            memory = null;
        long? swap = Value(MemorySwap) switch
        {
            null => null,
            "-1" => -1,
            var s => ByteSize.Parse(s, "--memory-swap"),
        };
        if (swap is not null && memory is null)
            throw new RunFlagException("--memory-swap needs --memory (it is the limit of memory and swap together)");
        if (swap is > 0 && swap < memory)
            throw new RunFlagException("--memory-swap must be at least --memory (it counts memory and swap together)");
        var reservation = Value(MemoryReservation) is { } r ? ByteSize.Parse(r, "--memory-reservation") : (long?)null;
        if (reservation is not null && memory is not null && reservation > memory)
            throw new RunFlagException("--memory-reservation must not be above --memory");

        var pids = Value(PidsLimit) switch
        {
            null => new BundleOptions().PidsLimit,
            "-1" or "0" => 0,
            var p => long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : throw new RunFlagException($"--pids-limit \"{p}\" is not a number (or -1 for no limit)"),
        };

        var devices = Values(Device).SelectMany(Devices.Resolve).ToList();
        var groupAdd = Values(GroupAdd);
        foreach (var group in groupAdd)
            if (group.Length == 0 || group.Contains(':') || group.Any(char.IsWhiteSpace))
                throw new RunFlagException($"--group-add \"{group}\" is not a group name or gid");

        int? oomScoreAdj = Value(OomScoreAdj) is { } o
            ? int.TryParse(o, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var adj) && adj is >= -1000 and <= 1000
                ? adj
                : throw new RunFlagException($"--oom-score-adj \"{o}\" is not a number from -1000 to 1000")
            : null;

        var bundle = new BundleOptions
        {
            Entrypoint = Value(Entrypoint) is { } ep ? EntrypointOf(ep) : null,
            Command = command.Count > 0 ? [.. command] : null,
            Env = env,
            User = Value(User) is { } u ? (u.Length > 0 ? u : throw new RunFlagException("--user is empty"))
                // keep-id runs as you, as podman's does, unless -u says otherwise.
                : usernsText == "keep-id" ? $"{host.EffectiveUid}:{Moat.Images.Storage.RootlessIdentity.HostGid}" : null,
            WorkingDir = workdir,
            Hostname = hostname,
            ReadOnlyRootfs = parse.GetValue(ReadOnly),
            Terminal = parse.GetValue(Tty),
            CapAdd = capAdd,
            CapDrop = capDrop,
            PidsLimit = pids,
            Annotations = annotations.Count > 0 ? annotations : null,
            Privileged = privileged,
            NoNewPrivileges = security.NoNewPrivileges,
            SeccompUnconfined = security.SeccompUnconfined,
            Seccomp = seccomp,
            AppArmorProfile = security.AppArmor,
            SelinuxLabel = security.SelinuxLabel,
            LabelDisabled = security.LabelDisabled,
            MaskPaths = security.Mask,
            UnmaskPaths = security.Unmask,
            MemoryLimit = memory,
            MemorySwap = swap,
            MemoryReservation = reservation,
            CpuQuota = Value(CpuCount) is { } cpus ? Cpus.Quota(cpus, host.Cpus) : null,
            CpuPeriod = Value(CpuCount) is not null ? Cpus.Period : null,
            CpuShares = Value(CpuShares) is { } shares
                ? ulong.TryParse(shares, NumberStyles.None, CultureInfo.InvariantCulture, out var w) && w > 0 ? w : throw new RunFlagException($"--cpu-shares \"{shares}\" is not a positive number")
                : null,
            CpusetCpus = Value(CpusetCpus) is { } cc ? Cpus.List(cc, "--cpuset-cpus") : null,
            CpusetMems = Value(CpusetMems) is { } cm ? Cpus.List(cm, "--cpuset-mems") : null,
            ShmSize = Value(ShmSize) is { } shm ? PositiveSize(shm, "--shm-size") : null,
            Ulimits = Values(Ulimit).Select(Ulimits.Parse).ToList(),
            OomScoreAdj = oomScoreAdj,
            Sysctls = Values(Sysctl).Select(s => Sysctls.Parse(s, hostNamespaces)).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal),
            GroupAdd = groupAdd,
            Devices = devices,
            DeviceCgroupRules = Values(DeviceCgroupRule).Select(Devices.ParseCgroupRule).ToList(),
            HostNamespaces = hostNamespaces,
            UidMappings = userns?.Uids ?? [],
            GidMappings = userns?.Gids ?? [],
            Init = parse.GetValue(Init),
            InitBinary = parse.GetValue(Init) ? host.InitBinary : null,
        };

        var restart = Value(RestartPolicy) is { } rp ? Restart.Parse(rp) : new RestartPolicy();
        var remove = parse.GetValue(Remove);
        if (remove && restart.Name != RestartPolicies.No)
            throw new RunFlagException($"--rm and --restart {restart.Name} do not go together (a container removed when it exits cannot restart)");

        var logDriver = Value(LogDriver) is { } ld ? LogOptions.Driver(ld) : LogDrivers.K8sFile;
        var (logMaxSize, logMaxFiles) = LogOptions.Parse(Values(LogOpt), logDriver);

        var request = new RunRequest
        {
            Image = image,
            Bundle = bundle,
            Mounts = mounts,
            Name = Value(Name) is { } name ? ContainerName(name) : null,
            Detach = parse.GetValue(Detach),
            Interactive = parse.GetValue(Interactive),
            Tty = parse.GetValue(Tty),
            Remove = remove,
            Restart = restart,
            Health = HealthOf(parse),
            Labels = labels,
            StopSignal = Value(StopSignal) is { } signal ? Signals.Name(Signals.Parse(signal, "--stop-signal")) : null,
            StopTimeout = Value(StopTimeout) is { } timeout
                ? int.TryParse(timeout, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds) && seconds >= -1
                    ? seconds
                    : throw new RunFlagException($"--stop-timeout \"{timeout}\" is not a number of seconds (-1: wait without limit)")
                : null,
            Network = network,
            Publish = NetworkFlag(() => Values(Publish).SelectMany(Moat.Network.PortMapping.Parse).ToList()),
            PublishAll = parse.GetValue(PublishAll),
            Egress = NetworkFlag(() => Moat.Network.EgressRule.Parse(Value(Egress))),
            Isolation = Value(Isolation) switch
            {
                null or "default" or "container" => "container",
                "sandbox" => "sandbox",
                "vm" => "vm",
                var i => throw new RunFlagException($"--isolation \"{i}\" is not container, sandbox or vm"),
            },
            LogDriver = logDriver,
            LogMaxSize = logMaxSize,
            LogMaxFiles = logMaxFiles,
            Init = bundle.Init,
            Pull = Value(Pull) switch
            {
                null => "missing",
                "missing" or "always" or "never" or "newer" => Value(Pull)!,
                var p => throw new RunFlagException($"--pull \"{p}\" is not missing, always, never or newer"),
            },
            Platform = Value(Platform) is { } platform ? PlatformOf(platform) : null,
            CidFile = Value(CidFile) is { } cid ? CidFileOf(cid) : null,
            Runtime = Value(Runtime) is { } runtime ? (runtime.Length > 0 ? runtime : throw new RunFlagException("--runtime is empty")) : null,
            AddHosts = Values(AddHost).Select(HostFiles.AddHost).ToList(),
            Dns = Values(Dns).Select(HostFiles.Dns).ToList(),
            DnsSearch = Values(DnsSearch).Select(d => d.Length > 0 && !d.Any(char.IsWhiteSpace) ? d : throw new RunFlagException($"--dns-search \"{d}\" is not a domain")).ToList(),
            IgnoreLimits = parse.GetValue(IgnoreLimits),
            PidsLimitGiven = Value(PidsLimit) is not null,
            DnsOptions = Values(DnsOption).Select(d => d.Length > 0 && !d.Any(char.IsWhiteSpace) ? d : throw new RunFlagException($"--dns-option \"{d}\" is not a resolver option")).ToList(),
        };
        return request with { Warnings = RunWarnings.For(request, userNamespaceByDefault, userNamespaceHostAsked: usernsText == "host") };
    }

    /// <summary>docker's --entrypoint is one string (the program); "" clears the image's; podman also takes a JSON array.</summary>
    static List<string> EntrypointOf(string text)
    {
        if (text.Length == 0)
            return [];
        if (text.TrimStart().StartsWith('['))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.ValueKind == JsonValueKind.Array && document.RootElement.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
                    return document.RootElement.EnumerateArray().Select(e => e.GetString()!).ToList();
            }
            catch (JsonException)
            {
            }
            throw new RunFlagException($"--entrypoint '{text}' starts like a JSON array but is not a list of strings");
        }
        return [text];
    }

    static HealthSettings HealthOf(ParseResult parse)
    {
        var cmd = parse.GetValue(HealthCmd);
        var given = new[] { HealthInterval, HealthTimeout, HealthRetries, HealthStartPeriod }.Where(o => parse.GetValue(o) is not null).ToList();
        if (parse.GetValue(NoHealthcheck))
        {
            if (cmd is not null || given.Count > 0)
                throw new RunFlagException("--no-healthcheck does not go with --health-* flags");
            return new HealthSettings { Disabled = true };
        }
        TimeSpan? Duration(Option<string?> option)
        {
            if (parse.GetValue(option) is not { } text)
                return null;
            var value = GoDuration.Parse(text, option.Name);
            if (value < TimeSpan.Zero)
                throw new RunFlagException($"{option.Name} {text} is negative");
            if (value > TimeSpan.Zero && value < TimeSpan.FromMilliseconds(1))
                throw new RunFlagException($"{option.Name} {text} is below 1ms");
            return value;
        }
        IReadOnlyList<string>? command = null;
        var disabled = false;
        if (cmd is not null)
        {
            if (cmd.TrimStart().StartsWith('['))
            {
                var list = EntrypointOf(cmd);
                if (list.Count == 0)
                    throw new RunFlagException("--health-cmd [] names no command");
                (command, disabled) = list[0] switch
                {
                    "NONE" => ((IReadOnlyList<string>?)null, true),
                    "CMD" when list.Count > 1 => (list[1..], false),
                    "CMD-SHELL" when list.Count == 2 => (["/bin/sh", "-c", list[1]], false),
                    _ => throw new RunFlagException($"--health-cmd '{cmd}' must start with CMD, CMD-SHELL (one string after it) or NONE"),
                };
            }
            else if (cmd.Length == 0)
                throw new RunFlagException("--health-cmd is empty");
            else
                command = ["/bin/sh", "-c", cmd];
        }
        int? retries = parse.GetValue(HealthRetries) is { } r
            ? int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new RunFlagException($"--health-retries \"{r}\" is not a number of 0 or more")
            : null;
        return new HealthSettings
        {
            Command = command,
            Disabled = disabled,
            Interval = Duration(HealthInterval),
            Timeout = Duration(HealthTimeout),
            StartPeriod = Duration(HealthStartPeriod),
            Retries = retries,
        };
    }

    static string NetworkMode(string text)
    {
        if (text.Length == 0)
            throw new RunFlagException("--network is empty");
        if (text.StartsWith("ns:", StringComparison.Ordinal))
            throw new RunFlagException($"--network {text}: joining a namespace by path is not supported; use container:NAME");
        if (text == "container:")
            throw new RunFlagException("--network container: names no container");
        return text == "default" ? "bridge" : text;
    }

    /// <summary>Moat.Network's grammars report a NetworkException; here it is a flag's error.</summary>
    static T NetworkFlag<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (Moat.Network.NetworkException e)
        {
            throw new RunFlagException(e.Message);
        }
    }

    /// <summary>Whether a --uts/--ipc/--pid value asks for the host's namespace; "private" (and the <paramref name="alsoPrivate"/> names) is the default.</summary>
    static bool SharedNamespace(string? text, string flag, string[] alsoPrivate)
    {
        if (text is null or "" or "private" || alsoPrivate.Contains(text))
            return false;
        if (text == "host")
            return true;
        if (text.StartsWith("container:", StringComparison.Ordinal))
            throw new RunFlagException($"{flag} {text}: sharing another container's namespace is not supported yet");
        throw new RunFlagException($"{flag} \"{text}\" is not host or private");
    }

    static long PositiveSize(string text, string flag)
    {
        var size = ByteSize.Parse(text, flag);
        return size > 0 ? size : throw new RunFlagException($"{flag} must be more than 0");
    }

    /// <summary>podman's rule for container names (docker's, but one character is enough).</summary>
    static string ContainerName(string name)
    {
        var start = name.StartsWith('/') ? name[1..] : name;
        if (start.Length == 0 || !char.IsAsciiLetterOrDigit(start[0]) || !start.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            throw new RunFlagException($"--name \"{name}\" is not a valid container name (letters, digits, '_', '.', '-', starting with a letter or digit)");
        return start;
    }

    static string PlatformOf(string text)
    {
        try
        {
            return PlatformSpec.Parse(text).ToString();
        }
        catch (FormatException e)
        {
            throw new RunFlagException("--platform: " + e.Message);
        }
    }

    static string CidFileOf(string path)
    {
        if (path.Length == 0)
            throw new RunFlagException("--cidfile is empty");
        // docker refuses to overwrite one: another container may still be using it.
        if (File.Exists(path))
            throw new RunFlagException($"--cidfile {path} already exists; make sure no other container uses it, and remove it");
        return Path.GetFullPath(path);
    }

    /// <summary>
    /// `moat run busybox ls -l`: everything after IMAGE is the container's command, even what looks like a
    /// flag. The parser would take "-l" as --label, so a "--" goes after IMAGE (the first argument of run,
    /// create, container run or container create that is not an option or an option's value).
    /// </summary>
    public static string[] SeparateCommand(string[] args)
    {
        var i = 0;
        // Global options before the verb (those taking a value skip it).
        while (i < args.Length && args[i].StartsWith('-'))
        {
            if (args[i] == "--")
                return args;
            i += args[i] is "--root" or "--registries-conf" ? 2 : 1;
        }
        if (i < args.Length && args[i] == "container")
            i++;
        if (i >= args.Length || args[i] is not ("run" or "create"))
            return args;
        for (i++; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--")
                return args;
            if (arg.Length > 1 && arg[0] == '-')
            {
                if (TakesNextValue(arg))
                    i++;
                continue;
            }
            // args[i] is IMAGE.
            return i + 1 < args.Length ? [.. args[..(i + 1)], "--", .. args[(i + 1)..]] : args;
        }
        return args;
    }

    static readonly Lazy<Dictionary<string, bool>> TakesValue = new(() =>
    {
        var map = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var option in All)
        {
            var takes = option is not Option<bool>;
            map[option.Name] = takes;
            foreach (var alias in option.Aliases)
                map[alias] = takes;
        }
        map["--root"] = map["--registries-conf"] = true;
        foreach (var name in RunCheckFlags.ValueFlags)
            map[name] = true;
        return map;
    });

    /// <summary>Whether the token is an option whose value is the next token (not "--name=x", not a bool, not "-eKEY=V").</summary>
    static bool TakesNextValue(string arg)
    {
        if (arg.StartsWith("--", StringComparison.Ordinal))
            return !arg.Contains('=') && TakesValue.Value.GetValueOrDefault(arg);
        if (arg.Contains('='))
            return false;
        // Short flags, maybe bundled (-it, -dit, -itv): the first that takes a value takes the rest of the token, or the next one.
        for (var c = 1; c < arg.Length; c++)
        {
            if (TakesValue.Value.GetValueOrDefault("-" + arg[c]))
                return c == arg.Length - 1;
        }
        return false;
    }
}
