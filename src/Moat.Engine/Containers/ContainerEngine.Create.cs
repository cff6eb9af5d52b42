using Moat.Engine.Monitor;
using Moat.Engine.Names;
using Moat.Engine.Run;
using Moat.Engine.Store;
using Moat.Images.Bundles;
using Moat.Images.Distribution;
using Moat.Images.Model;
using Moat.Images.Pull;
using Moat.Images.Service;
using Moat.Images.Snapshots;
using Moat.Images.Storage;
using Moat.Monitor.Protocol;
using Moat.Oci;

namespace Moat.Engine.Containers;

public sealed partial class ContainerEngine
{
    /// <summary>Annotations the engine puts in every config.json (read back by audit and by humans).</summary>
    public const string NameAnnotation = "run.moat.container.name", ImageAnnotation = "run.moat.container.image";
    public const string SandboxReportAnnotation = "run.moat.sandbox.report", EventsAnnotation = "run.moat.events";

    /// <summary>
    /// `moat create`: the image (pulled when missing), the record (state creating, written before anything is
    /// made on disk), the container layer, volumes, config.json, monitor.json, and the monitor, which runs the
    /// runtime's create. On failure everything made is removed again; a `moat` killed half way leaves a record
    /// that rm -f and system prune clean.
    /// </summary>
    public async Task<ContainerRecord> CreateAsync(RunRequest request, IPullProgress progress, CancellationToken cancellation = default)
    {
        var (image, pulledBy) = await ResolveImageAsync(request, progress, cancellation).ConfigureAwait(false);
        var imageConfig = Images.ConfigOf(image);
        var chainIds = ImageService.ChainIdsOf(imageConfig);
        if (chainIds.Count == 0 || chainIds.Any(c => !Images.Snapshots.Has(c)))
            throw new EngineException($"the layers of image {image.Id.Short} are not unpacked in the store: pull or load it again");
        var name = request.Name is { } given ? ContainerNames.Validate(given) : ContainerNames.Generate(n => Store.FindByName(n) is not null);
        var id = ContainerNames.NewId();
        var imageName = image.Names.FirstOrDefault(n => n.EndsWith(request.Image, StringComparison.Ordinal)) ?? (image.Names.Count > 0 ? image.Names[0] : image.Id.ToString());
        var imageDigest = pulledBy ?? RepoDigestOf(image, imageName);
        if (request.Checks is { } checks)
            await checks.CheckImageAsync(image, imageName, imageDigest, pulledBy is not null, cancellation).ConfigureAwait(false);
        // From here to the monitor's report of the runtime's create: the migration into v1 cgroups must not wait.
        using var warmth = MigrationWarmth.Start();
        var runtimeArgs = new List<string> { "--root", RuntimeRoot };
        if (request.Isolation is { Length: > 0 } isolation && isolation != "container")
            runtimeArgs.AddRange(["--isolation", isolation]);
        var config = imageConfig.Config;
        var settings = new ContainerSettings
        {
            Tty = request.Tty,
            Interactive = request.Interactive,
            AutoRemove = request.Remove,
            StopSignal = request.StopSignal ?? (string.IsNullOrEmpty(config?.StopSignal) ? "SIGTERM" : config.StopSignal),
            StopTimeout = request.StopTimeout ?? 10,
            Restart = request.Restart,
            Health = HealthFor(request.Health, config?.Healthcheck),
            Labels = new Dictionary<string, string>(request.Labels),
            RuntimeArgs = runtimeArgs,
            Network = request.Network,
            LogDriver = request.LogDriver,
            LogMaxSize = request.LogMaxSize,
            LogMaxFiles = request.LogMaxFiles,
            Init = request.Init,
            ImageDigest = imageDigest,
            ExposedPorts = config?.ExposedPorts?.Keys.Order(StringComparer.Ordinal).ToList() ?? [],
        };
        if (request.Restart.Name != RestartPolicies.No && request.Remove)
            throw new EngineException("--restart and --rm conflict: a container removed when it exits cannot be restarted");

        Directory.CreateDirectory(RuntimeRoot);
        using var held = ContainerLock.Acquire(ContainersDirectory, id);
        var record = new ContainerRecord
        {
            Id = id, Name = name, ImageId = image.Id.ToString(), ImageName = imageName, Created = DateTimeOffset.UtcNow,
            State = EngineStates.Creating, Runtime = request.Runtime ?? DefaultRuntime, Isolation = request.Isolation, Settings = settings,
        };
        Store.Insert(record);
        try
        {
            Images.Catalog.AddUser(image.Id, id);
            // Only host root can idmap the store's mounts; a user's engine (keep-id) maps inside its own namespace.
            var idMap = Images.Layout.ForRoot ? LayerIdMap.From(request.Bundle.UidMappings, request.Bundle.GidMappings) : null;
            Images.Snapshots.CreateContainerLayer(id, chainIds, idMap);
            var rootfs = Images.Snapshots.Mount(id);
            var directory = DirectoryOf(id);
            var bundle = Path.Combine(directory, ContainerFiles.Bundle);
            Directory.CreateDirectory(bundle);
            var mounts = ResolveMounts(request.Mounts, config, rootfs, idMap);
            var annotations = new Dictionary<string, string>(request.Bundle.Annotations ?? new Dictionary<string, string>())
            {
                [NameAnnotation] = name,
                [ImageAnnotation] = imageName,
            };
            // The sandbox tier's supervisor keeps its refusal counts here (read by inspect) and reports
            // refusals as events in this engine's journal.
            if (request.Isolation == "sandbox" || annotations.GetValueOrDefault("run.moat.isolation") == "sandbox")
            {
                annotations[SandboxReportAnnotation] = directory;
                annotations[EventsAnnotation] = Events.Path;
            }
            var spec = BundleBuilder.Build(imageConfig, rootfs, request.Bundle with
            {
                Terminal = request.Tty,
                Annotations = annotations,
                Mounts = [.. request.Bundle.Mounts, .. mounts.Select(ToOciMount)],
            }, bundle);
            ApplyRootlessLimits(spec, request, id);
            // Known to Destroy before any check can refuse: the anonymous volumes just made go with the container.
            record = record with { Settings = settings with { Mounts = mounts } };
            request.Checks?.CheckSpec(spec, name);
            var published = AttachNetwork(request, record, spec, settings.ExposedPorts);
            if (Images.Layout.ForRoot)
                IdmappedBinds.Apply(spec);
            // Not synced: the record that names this bundle is not either (synchronous=NORMAL); after a power cut
            // a config.json lost with it is a container `start` refuses and `rm -f` removes (docs/engine.md).
            BundleBuilder.WriteConfig(bundle, spec, durable: false);
            var logPath = request.LogDriver == LogDrivers.None ? null : Path.Combine(directory, ContainerFiles.ContainerLog);
            settings = settings with
            {
                Mounts = mounts,
                LogPath = logPath,
                Args = spec.Process?.Args ?? [],
                Entrypoint = request.Bundle.Entrypoint?.ToList() ?? config?.Entrypoint,
                Command = request.Bundle.Command?.ToList() ?? (request.Bundle.Entrypoint is null ? config?.Cmd : null),
                Env = spec.Process?.Env ?? [],
                User = request.Bundle.User ?? config?.User,
                WorkingDir = spec.Process?.Cwd ?? "/",
                Hostname = spec.Hostname ?? "",
                ReadOnlyRootfs = request.Bundle.ReadOnlyRootfs,
                Privileged = request.Bundle.Privileged,
                Ports = published.Select(p => p.ToString()).ToList(),
            };
            record = record with { Settings = settings };
            Store.Update(record);
            WriteMonitorConfig(record);
            var launched = MonitorLauncher.Launch(MonitorExecutable, directory);
            record = record with { State = EngineStates.Created, MonitorPid = launched.MonitorPid, MonitorStartTime = launched.MonitorStartTime, Pid = launched.ContainerPid };
            Store.Update(record);
        }
        catch (Exception failure)
        {
            try
            {
                Destroy(record, removeVolumes: true, killMonitor: true);
            }
            catch (Exception cleanup)
            {
                throw new AggregateException(failure, cleanup);
            }
            throw;
        }
        Events.Container("create", id, name, imageName);
        if (request.CidFile is { } cidFile)
            File.WriteAllText(cidFile, id);
        return record;
    }

    /// <returns>The image, and the digest it was pulled by (the index's for a multi-platform image) when pulled now.</returns>
    async Task<(ImageRecord Image, string? PulledBy)> ResolveImageAsync(RunRequest request, IPullProgress progress, CancellationToken cancellation)
    {
        var local = request.Pull == "always" ? null : Images.Names.Find(request.Image);
        if (local is not null)
            return (local, null);
        if (request.Pull == "never")
            throw new EngineException($"image {request.Image} is not in the store and --pull=never forbids pulling it");
        var platform = request.Platform is { } p ? PlatformSpec.Parse(p) : null;
        string? pulledBy = null;
        var image = await Images.PullAsync(request.Image, platform, progress, cancellation, async (resolved, token) =>
        {
            pulledBy = (resolved.Index ?? resolved.Manifest).Digest.ToString();
            if (request.Checks is { } checks)
                await checks.CheckPullAsync(resolved, token).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return (image, pulledBy);
    }

    /// <summary>The digest of the image's repo digest in <paramref name="imageName"/>'s repository (the platform manifest's), else its manifest digest.</summary>
    static string RepoDigestOf(ImageRecord image, string imageName)
    {
        var repository = imageName.Split('@')[0];
        var colon = repository.LastIndexOf(':');
        if (colon > repository.LastIndexOf('/'))
            repository = repository[..colon];
        foreach (var repoDigest in image.RepoDigests)
        {
            var at = repoDigest.IndexOf('@');
            if (at > 0 && repoDigest[..at] == repository)
                return repoDigest[(at + 1)..];
        }
        return image.ManifestDigest.ToString();
    }

    static HealthCheck? HealthFor(HealthSettings flags, HealthcheckConfig? image)
    {
        if (flags.Disabled)
            return null;
        IReadOnlyList<string>? command = flags.Command;
        if (command is null && image?.Test is { Count: > 0 } test)
        {
            command = test[0] switch
            {
                "NONE" => null,
                "CMD" => test.Skip(1).ToList(),
                "CMD-SHELL" => ["/bin/sh", "-c", string.Join(' ', test.Skip(1))],
                _ => test,
            };
        }
        if (command is null or { Count: 0 })
            return null;
        static TimeSpan? Nanos(long value) => value > 0 ? TimeSpan.FromTicks(value / 100) : null;
        return new HealthCheck
        {
            Command = command,
            Interval = flags.Interval ?? Nanos(image?.Interval ?? 0) ?? TimeSpan.FromSeconds(30),
            Timeout = flags.Timeout ?? Nanos(image?.Timeout ?? 0) ?? TimeSpan.FromSeconds(30),
            StartPeriod = flags.StartPeriod ?? Nanos(image?.StartPeriod ?? 0) ?? TimeSpan.Zero,
            Retries = flags.Retries ?? (image?.Retries is > 0 ? image.Retries : 3),
        };
    }

    /// <summary>The mounts as made: named volumes created (and filled from the image), anonymous ones for -v PATH and the image's VOLUMEs.</summary>
    /// <param name="idMap">The container's maps when its layers are idmapped: the image's files are then copied into a
    /// volume with the ids they have on disk, as the volume is idmapped the same way.</param>
    List<MountRecord> ResolveMounts(IReadOnlyList<MountRequest> requested, ContainerConfig? image, string rootfs, LayerIdMap? idMap)
    {
        Func<(uint, uint), (uint, uint)>? owner = idMap is null ? null : idMap.OnDisk;
        var mounts = new List<MountRecord>();
        foreach (var m in requested)
        {
            var target = m.Target;
            if (!target.StartsWith('/'))
                throw new EngineException($"mount target \"{target}\" is not an absolute path");
            switch (m.Type)
            {
                case "bind":
                    if (m.Source is null || !Path.IsPathRooted(m.Source))
                        throw new EngineException($"bind mount source \"{m.Source}\" is not an absolute path");
                    if (!Path.Exists(m.Source))
                        throw new EngineException($"bind mount source {m.Source} does not exist");
                    mounts.Add(new MountRecord { Type = "bind", Source = m.Source, Destination = target, ReadOnly = m.ReadOnly, Options = [.. m.Options] });
                    break;
                case "volume":
                    var anonymous = m.Source is null;
                    var volume = m.Source ?? ContainerNames.NewId();
                    var data = Volumes.Ensure(volume, anonymous, rootfs, target, owner);
                    mounts.Add(new MountRecord { Type = "volume", Name = volume, Source = data, Destination = target, ReadOnly = m.ReadOnly, Anonymous = anonymous, Options = [.. m.Options] });
                    break;
                case "tmpfs":
                    mounts.Add(new MountRecord { Type = "tmpfs", Destination = target, ReadOnly = m.ReadOnly, Options = [.. m.Options] });
                    break;
                default:
                    throw new EngineException($"mount type \"{m.Type}\" is not known (bind, volume, tmpfs)");
            }
        }
        // The image's VOLUMEs that no mount covers get anonymous volumes, as docker gives them.
        foreach (var path in image?.Volumes?.Keys.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>())
        {
            var target = "/" + path.Trim('/');
            if (mounts.Any(m => m.Destination.TrimEnd('/') == target.TrimEnd('/')))
                continue;
            var volume = ContainerNames.NewId();
            var data = Volumes.Ensure(volume, anonymous: true, rootfs, target, owner);
            mounts.Add(new MountRecord { Type = "volume", Name = volume, Source = data, Destination = target, Anonymous = true });
        }
        return mounts;
    }

    static Mount ToOciMount(MountRecord m)
    {
        var options = new List<string>();
        if (m.Type == "tmpfs")
        {
            options.AddRange(["nosuid", "nodev"]);
            options.AddRange(m.Options);
            if (!m.Options.Any(o => o.StartsWith("mode=", StringComparison.Ordinal))) options.Add("mode=1777");
            if (m.ReadOnly) options.Add("ro");
            return new Mount { Destination = m.Destination, Type = "tmpfs", Source = "tmpfs", Options = options };
        }
        options.Add("rbind");
        options.AddRange(m.Options.Where(o => o is not ("z" or "Z" or "U")));
        if (!options.Any(o => o is "rprivate" or "private" or "rshared" or "shared" or "rslave" or "slave"))
            options.Add("rprivate");
        options.Add(m.ReadOnly ? "ro" : "rw");
        return new Mount { Destination = m.Destination, Type = "bind", Source = m.Source, Options = options };
    }

    void WriteMonitorConfig(ContainerRecord record)
    {
        var s = record.Settings;
        // Not fsynced: written again before every monitor the engine starts (Relaunch after a reboot too).
        ProtocolFiles.Write(FileOf(record.Id, ContainerFiles.MonitorConfig), new MonitorConfig
        {
            Id = record.Id,
            Runtime = record.Runtime,
            RuntimeArgs = s.RuntimeArgs,
            Bundle = Path.Combine(DirectoryOf(record.Id), ContainerFiles.Bundle),
            Terminal = s.Tty,
            Stdin = s.Interactive,
            LogPath = s.LogPath,
            LogDriver = s.LogDriver,
            LogMaxSize = s.LogMaxSize,
            LogMaxFiles = s.LogMaxFiles,
            Restart = s.Restart,
            Health = s.Health,
            ExitCommand = [MoatExecutable, "--root", Root, "container", "cleanup", record.Id],
            EventsPath = Events.Path,
            Name = record.Name,
            Image = record.ImageName,
        }, durable: false);
    }
}
