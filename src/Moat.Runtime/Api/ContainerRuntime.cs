using Moat.Oci;
using Moat.Oci.Profiles;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Create;
using Moat.Runtime.Exec;
using Moat.Runtime.Foreground;
using Moat.Interop;
using Moat.Runtime.Host;
using Moat.Runtime.Lifecycle;
using Moat.Runtime.State;
using Moat.Runtime.Tiers;
using ContainerStatus = Moat.Runtime.State.ContainerStatus;

namespace Moat.Runtime.Api;

/// <summary>How a runtime API instance is set up: where state lives, which tier new containers get, where messages go.</summary>
public sealed record RuntimeSettings(string Root)
{
    /// <summary>The tier asked for by a flag (<c>--isolation</c>); null leaves it to the annotation and the executable name.</summary>
    public string? Isolation { get; init; }

    /// <summary>The name this executable was started by (argv[0]): <c>moat-runtime-vm</c> selects the vm tier.</summary>
    public string? ExecutableName { get; init; }

    public Action<string> Warn { get; init; } = _ => { };

    public Action<string>? Debug { get; init; }

    public HostContext Host { get; init; } = HostContext.Current;

    /// <summary>
    /// Tiers beyond the container tier that this executable carries (the sandbox tier lives in its own
    /// project, on top of this one), each made on first use: nothing of them runs for other containers.
    /// </summary>
    public IReadOnlyDictionary<Isolation, Func<TierServices, IIsolationTier>>? Tiers { get; init; }

    /// <summary>
    /// What to do when a container needs a tier this executable does not carry, before anything of
    /// the command has been done: moat-runtime carries the container tier only and re-executes the
    /// whole command as moat-runtime-tiers (it does not return). Null: refuse it by name.
    /// </summary>
    public Action<Isolation>? HandOver { get; init; }
}

/// <summary>
/// The runtime API over the tiers: it chooses the tier of a new container (flag, annotation,
/// executable name) and records it in the state, and sends every later verb to the tier that made
/// the container, after finding it, taking its lock and reading its state once.
/// </summary>
public sealed class ContainerRuntime : IContainerRuntime
{
    readonly RuntimeSettings settings;
    readonly ContainerTier containerTier;

    public ContainerRuntime(RuntimeSettings settings)
    {
        this.settings = settings;
        Store = new StateStore(settings.Root);
        containerTier = new ContainerTier(Store, settings.Host, settings.Warn, settings.Debug);
    }

    public StateStore Store { get; }

    /// <summary>The tiers this build has; the others are refused by name (<see cref="Availability"/>).</summary>
    IIsolationTier? Built(Isolation isolation)
    {
        if (isolation == Isolation.Container)
            return containerTier;
        if (otherTiers.TryGetValue(isolation, out var made))
            return made;
        if (settings.Tiers is null || !settings.Tiers.TryGetValue(isolation, out var factory))
            return null;
        return otherTiers[isolation] = factory(new TierServices(Store, settings.Host, containerTier, settings.Warn, settings.Debug));
    }

    readonly Dictionary<Isolation, IIsolationTier> otherTiers = [];

    /// <summary>Whether each tier can run here, for `moat info` and for a refused create.</summary>
    public IReadOnlyList<TierAvailability> Availability() =>
        Enum.GetValues<Isolation>().Select(t => TierAvailability.Of(t, settings.Host, IsBuilt(t))).ToList();

    bool IsBuilt(Isolation isolation) => isolation == Isolation.Container || settings.Tiers?.ContainsKey(isolation) == true;

    IIsolationTier TierFor(Isolation isolation)
    {
        if (Built(isolation) is { } tier)
            return tier;
        settings.HandOver?.Invoke(isolation);
        throw new RuntimeException(TierAvailability.Of(isolation, settings.Host, built: false).Explain());
    }

    /// <summary>The tier for a new container: built, and able to run on this host (else refused with what is missing).</summary>
    IIsolationTier TierForNew(Isolation isolation)
    {
        if (isolation != Isolation.Container && IsBuilt(isolation) && TierAvailability.Of(isolation, settings.Host, built: true) is { Available: false } missing)
            throw new RuntimeException(missing.Explain());
        return TierFor(isolation);
    }

    IIsolationTier TierOf(ContainerView view) => TierOf(view.Id, view.State?.Isolation);

    /// <summary>The tier that made a container, from the name its state records (none: the container tier).</summary>
    IIsolationTier TierOf(string id, string? isolationName)
    {
        if (isolationName is null)
            return containerTier;
        if (!IsolationNames.TryParse(isolationName, out var isolation))
            throw new RuntimeException($"container \"{id}\" was made by an unknown isolation tier \"{isolationName}\" (a newer moat?)");
        return TierFor(isolation);
    }

    public ContainerCreator.Created Create(CreateOptions options) => Create(options, Choose(options));

    /// <summary>A new container's config and tier, chosen before anything is made (or the command handed over).</summary>
    sealed record Chosen(string Bundle, Spec Spec, Isolation Isolation, IIsolationTier Tier);

    Chosen Choose(CreateOptions options)
    {
        var (bundle, spec) = ContainerCreator.Load(options, settings.Host);
        var isolation = TierSelection.Choose(settings.Isolation, spec.Annotations, settings.ExecutableName);
        return new Chosen(bundle, spec, isolation, TierForNew(isolation));
    }

    ContainerCreator.Created Create(CreateOptions options, Chosen chosen)
    {
        AuditGate.Check(chosen.Spec, chosen.Bundle, settings.Warn);
        if (chosen.Isolation != Isolation.Container)
            settings.Debug?.Invoke($"create {options.Id}: {chosen.Isolation.ToName()} tier");
        return chosen.Tier.Create(options, chosen.Bundle, chosen.Spec);
    }

    /// <summary>
    /// run: create and start; in the foreground also wait, passing on the signals the caller gets,
    /// relaying the terminal, and delete the container when its process exits. Returns the process's
    /// exit status (128+N for signal N), or 0 when detached.
    /// </summary>
    public int Run(CreateOptions options, bool detach)
    {
        if (detach)
        {
            var detached = Create(options);
            detached.Pidfd.Dispose();
            RunPoststart(detached.State);
            return 0;
        }
        // The tier first: a hand-over to another executable must leave signals and reaping as they came.
        var chosen = Choose(options);
        // An init in a joined pid namespace is our grandchild: become its reaper so we can wait for it.
        Libc.Prctl(Libc.PR_SET_CHILD_SUBREAPER, 1, "become child subreaper");
        using var signals = ForegroundProcess.CatchSignals();
        var created = Create(options, chosen);
        using var pidfd = created.Pidfd;
        var relay = created.Console is { } console ? new Terminal.TerminalRelay(console) : null;
        RunPoststart(created.State);
        var status = signals.Wait(pidfd, relay);
        Delete(options.Id, force: true);
        return status;
    }

    /// <summary>exec, waiting for the process in the foreground (its exit status) unless detached (0).</summary>
    public int ExecAndWait(ExecOptions options, bool detach)
    {
        // The tier first: a hand-over to another executable must leave signals and reaping as they came.
        var view = State(options.Id);
        var tier = TierOf(view);
        if (!detach)
            Libc.Prctl(Libc.PR_SET_CHILD_SUBREAPER, 1, "become child subreaper");
        using var signals = detach ? null : ForegroundProcess.CatchSignals();
        var started = Exec(tier, view, options);
        using var pidfd = started.Pidfd;
        if (detach)
            return 0;
        var relay = started.Console is { } console ? new Terminal.TerminalRelay(console) : null;
        return signals!.Wait(pidfd, relay);
    }

    /// <summary>The runtime-spec features document of this runtime on this host.</summary>
    public Features Features()
    {
        var cgroups = settings.Host.Cgroups;
        return FeaturesDocument.Create(new FeatureSupport
        {
            MountOptions = Rootfs.MountOptions.KnownOptions,
            CgroupV1 = cgroups.Hierarchies.Any(h => !h.IsV2),
            CgroupV2 = cgroups.Unified is not null,
            Seccomp = Libseccomp.IsAvailable,
            SeccompSupportedFlags = SeccompNames.Flags.Where(f => Seccomp.SeccompCompiler.FlagValue(f) is { } v && Libc.SeccompFlagsSupported(v)).ToList(),
            AppArmor = settings.Host.AppArmor,
            SELinux = settings.Host.Selinux,
            IdmapMounts = settings.Host.Kernel.IdmappedMounts,
        });
    }

    /// <summary>
    /// The config `spec` writes: runtime-spec's defaults (runc's), secure by default with Docker's
    /// seccomp profile (Moat.Oci.Profiles, shared with image bundles) resolved for the bounding set
    /// and this host's machine. Only `spec` builds it; create and run take the profile from config.json.
    /// </summary>
    public static Spec DefaultConfig(DefaultConfigKind kind)
    {
        var spec = kind switch
        {
            DefaultConfigKind.Rootless => DefaultSpec.CreateRootless(Libc.geteuid(), Libc.getegid()),
            DefaultConfigKind.HostRoot => DefaultSpec.Create(rootless: false),
            _ => DefaultSpec.CreateMappedRoot(),
        };
        spec.Linux ??= new Linux();
        var bounding = (spec.Process?.Capabilities?.Bounding ?? []).ToHashSet(StringComparer.Ordinal);
        spec.Linux.Seccomp = DefaultSeccompProfile.For(bounding);
        return spec;
    }

    /// <summary>The config a container was created from (exec builds its process on it).</summary>
    public Spec ConfigOf(string id) =>
        State(id).State?.Config
        ?? throw new RuntimeException($"container \"{id}\" has no recorded configuration (created by an older moat?)");

    public void Start(string id) => WithLocked(id, (tier, c) => tier.Start(c));

    public ContainerView State(string id)
    {
        ContainerId.Validate(id);
        var dir = Store.DirectoryOf(id);
        if (!Directory.Exists(dir))
            throw new ContainerNotFoundException(id);
        return ContainerView.Load(id, dir);
    }

    public IReadOnlyList<ContainerView> List() =>
        Store.ListIds().Select(id => ContainerView.Load(id, Store.DirectoryOf(id))).ToList();

    public void Kill(string id, int signal, bool all) => WithLocked(id, (tier, c) => tier.Kill(c, signal, all));

    public void Delete(string id, bool force)
    {
        ContainerDirectory dir;
        try
        {
            dir = Store.Open(id);
        }
        catch (ContainerNotFoundException) when (force)
        {
            return;
        }
        using (dir)
        {
            var view = ContainerView.Load(id, dir.Path);
            TierOf(view).Delete(new LocatedContainer(dir, view), force);
        }
    }

    public ContainerExec.Started Exec(ExecOptions options)
    {
        var view = State(options.Id);
        return Exec(TierOf(view), view, options);
    }

    ContainerExec.Started Exec(IIsolationTier tier, ContainerView view, ExecOptions options)
    {
        // The first move into a v1 cgroup after a quiet spell waits a grace period: start it now.
        MigrationWarmup.Start(settings.Host.Cgroups);
        return tier.Exec(view, options);
    }

    public void Pause(string id) => WithLocked(id, (tier, c) => tier.Pause(c));

    public void Resume(string id) => WithLocked(id, (tier, c) => tier.Resume(c));

    public void Update(string id, LinuxResources changes) => WithLocked(id, (tier, c) => tier.Update(c, changes));

    public IReadOnlyList<int> Processes(string id)
    {
        var view = State(id);
        return TierOf(view).Processes(view);
    }

    public CgroupStats Stats(string id)
    {
        var view = State(id);
        return TierOf(view).Stats(view);
    }

    public OomWatcher WatchOom(string id)
    {
        var view = State(id);
        return TierOf(view).WatchOom(view);
    }

    /// <summary>
    /// events: the container's statistics as runc prints them (one line, or every interval), and a
    /// line for each OOM kill; the stream ends when the container stops. Each event is one JSON line.
    /// </summary>
    public void Events(string id, TimeSpan? interval, Action<string> emit)
    {
        var view = State(id);
        if (view.Status is ContainerStatus.Stopped or ContainerStatus.Creating || view.State is null)
            throw new RuntimeException("container not running");
        var tier = TierOf(view);
        if (interval is not { } period)
        {
            emit(tier.Stats(view).ToEventJson(id));
            return;
        }
        var oom = tier.WatchOom(view);
        var oomLine = System.Text.Encoding.UTF8.GetString(Moat.Oci.Json.SpecJson.ToUtf8Bytes(w =>
        {
            w.WriteStartObject();
            w.WriteString("type"u8, "oom");
            w.WriteString("id"u8, id);
            w.WriteEndObject();
        }, new System.Text.Json.JsonWriterOptions()));
        var nextStats = DateTime.UtcNow;
        // OOM kills are polled often; statistics every interval; the stream ends with the container.
        while (State(id).Status is not (ContainerStatus.Stopped or ContainerStatus.Creating))
        {
            for (var kills = oom.NewOomKills(); kills > 0; kills--)
                emit(oomLine);
            if (DateTime.UtcNow >= nextStats)
            {
                emit(tier.Stats(view).ToEventJson(id));
                nextStats = DateTime.UtcNow + period;
            }
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(100, period.TotalMilliseconds)));
        }
        if (oom.TryOomKillCount() is not null)
            for (var kills = oom.NewOomKills(); kills > 0; kills--)
                emit(oomLine);
    }

    public void RunPoststart(RuntimeState state) => TierOf(state.Id, state.Isolation).RunPoststart(state);

    void WithLocked(string id, Action<IIsolationTier, LocatedContainer> verb)
    {
        using var dir = Store.Open(id);
        var view = ContainerView.Load(id, dir.Path);
        verb(TierOf(view), new LocatedContainer(dir, view));
    }
}
