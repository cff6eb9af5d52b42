using Moat.Oci;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Create;
using Moat.Runtime.Exec;
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
    IIsolationTier? Built(Isolation isolation) => isolation == Isolation.Container ? containerTier : null;

    /// <summary>Whether each tier can run here, for `moat info` and for a refused create.</summary>
    public IReadOnlyList<TierAvailability> Availability() =>
        Enum.GetValues<Isolation>().Select(t => TierAvailability.Of(t, settings.Host, Built(t) is not null)).ToList();

    IIsolationTier TierFor(Isolation isolation) =>
        Built(isolation) ?? throw new RuntimeException(TierAvailability.Of(isolation, settings.Host, built: false).Explain());

    IIsolationTier TierOf(ContainerView view)
    {
        var name = view.State?.Isolation;
        if (name is null)
            return containerTier;
        if (!IsolationNames.TryParse(name, out var isolation))
            throw new RuntimeException($"container \"{view.Id}\" was made by an unknown isolation tier \"{name}\" (a newer moat?)");
        return TierFor(isolation);
    }

    public ContainerCreator.Created Create(CreateOptions options)
    {
        var (bundle, spec) = ContainerCreator.Load(options, settings.Host);
        var isolation = TierSelection.Choose(settings.Isolation, spec.Annotations, settings.ExecutableName);
        var tier = TierFor(isolation);
        if (isolation != Isolation.Container)
            settings.Debug?.Invoke($"create {options.Id}: {isolation.ToName()} tier");
        return tier.Create(options, bundle, spec);
    }

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
        return TierOf(view).Exec(view, options);
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

    public void RunPoststart(RuntimeState state) =>
        TierOf(new ContainerView(state.Id, state, ContainerStatus.Running)).RunPoststart(state);

    void WithLocked(string id, Action<IIsolationTier, LocatedContainer> verb)
    {
        using var dir = Store.Open(id);
        var view = ContainerView.Load(id, dir.Path);
        verb(TierOf(view), new LocatedContainer(dir, view));
    }
}
