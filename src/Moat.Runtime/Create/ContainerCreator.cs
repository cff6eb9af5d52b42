using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Hooks;
using Moat.Runtime.Protocol;
using Moat.Runtime.Seccomp;
using Moat.Runtime.State;

namespace Moat.Runtime.Create;

/// <summary>The runtime's side of create: from a bundle to an init process waiting for start.</summary>
public sealed class ContainerCreator(StateStore store, Action<string>? debug = null, Action<string>? warn = null)
{
    /// <summary>The created container's init: its pid and a pidfd (the caller of run waits on it).</summary>
    /// <summary>Console is the pty master when the process has a terminal and no --console-socket took it.</summary>
    public sealed record Created(RuntimeState State, FileDescriptor Pidfd, FileDescriptor? Console = null);

    public Created Create(CreateOptions options)
    {
        var (bundle, spec) = Load(options, Host.HostContext.Current);
        return Create(options, bundle, spec);
    }

    /// <summary>The first steps of every create, whatever the tier: the id checked, the cgroup warm-up started, config.json read.</summary>
    public static (string Bundle, Spec Spec) Load(CreateOptions options, Host.HostContext host)
    {
        ContainerId.Validate(options.Id);
        // On a host with v1 hierarchies, moving the init into them waits an RCU grace period in the
        // kernel. Start that wait now, and do all cgroup work after the clone, while the init starts
        // up: the waiting writer holds cgroup_mutex, so an earlier mkdir would only wait behind it.
        MigrationWarmup.Start(host.Cgroups);
        var bundle = Path.GetFullPath(options.Bundle);
        return (bundle, SpecLoader.Load(bundle));
    }

    /// <summary>Creates the container from its loaded config (<see cref="Load"/> came first).</summary>
    /// <param name="additions">What a tier adds to the init message (Landlock, a connected listener socket); null for the container tier.</param>
    public Created Create(CreateOptions options, string bundle, Spec spec, string? isolation = null, InitAdditions? additions = null)
    {
        var host = Host.HostContext.Current;
        var cgroupHost = host.Cgroups;
        var cgroups = CgroupDrivers.For(host, warn);
        var cgroupsAfterClone = !cgroupHost.IsPureV2;
        SpecValidator.Validate(spec, bundle);
        HostSupport.Check(spec);
        var lastCapability = Libc.LastCapability();
        var capabilities = HostSupport.GrantableCapabilities(spec.Process!.Capabilities, lastCapability, warn);
        var plan = NamespacePlan.From(spec.Linux);
        var rootfs = Bundle.ResolveRootfs(bundle, spec.Root!);
        if (!plan.HasMountNamespace)
            debug?.Invoke($"create {options.Id}: no mount namespace: the container shares this one, so mounts, maskedPaths, readonlyPaths and root.readonly are not applied, only a chroot into {rootfs}");
        Terminal.ConsoleSocket.Check(spec.Process!.Terminal, options.ConsoleSocket, options.Foreground);
        if (options.ListenFds > 0)
            spec.Process!.Env = [.. (spec.Process.Env ?? []).Where(e => !e.StartsWith("LISTEN_FDS=", StringComparison.Ordinal) && !e.StartsWith("LISTEN_PID=", StringComparison.Ordinal)),
                $"LISTEN_FDS={options.ListenFds}", "LISTEN_PID=1"];

        var cgroup = cgroups.Open(cgroups.ResolvePath(spec.Linux?.CgroupsPath, options.Id));
        string? rootlessHint = null;
        if (Libc.geteuid() != 0 || HostSupport.InUserNamespace)
            (cgroup, rootlessHint) = RootlessCgroup.Restrict(cgroup, spec.Linux?.Resources, debug);
        try
        {
            cgroups.Validate(cgroup, spec.Linux?.Resources);
        }
        catch (RuntimeException e) when (rootlessHint is not null)
        {
            throw new RuntimeException($"{e.Message}: {rootlessHint}", e);
        }
        if (spec.Linux?.Seccomp is { } checkedProfile)
            SeccompCompiler.CheckHandover(checkedProfile, additions is { SeccompListenerFd: >= 0 });
        var seccomp = spec.Linux?.Seccomp is { } profile ? SeccompCache.GetOrCompile(profile, SeccompCacheDirectory(store)) : null;
        debug?.Invoke($"create {options.Id}: rootfs {rootfs}, clone flags 0x{plan.CloneFlags:x}, unshare flags 0x{plan.UnshareFlags:x}, late 0x{plan.LateUnshareFlags:x}, " +
                      $"joins [{string.Join(", ", plan.Joins.Select(j => $"{j.Type}={j.Path}"))}], cgroup {cgroup.Path} " +
                      $"({(cgroupHost.IsPureV2 ? "v2" : "v1" + (cgroupHost.Unified is null ? "" : " + unified"))})");

        using var directory = store.Create(options.Id);
        var state = new RuntimeState
        {
            Id = options.Id,
            Bundle = bundle,
            Rootfs = rootfs,
            Created = DateTimeOffset.UtcNow,
            Owner = host.Identity.UserName,
            Isolation = isolation,
            Annotations = spec.Annotations,
            Config = spec,
            CgroupPath = cgroup.Path,
            CgroupDirectories = cgroup.Directories.Select(d => d.Directory).ToList(),
            CgroupCreated = !cgroup.IsExisting,
        };
        FileDescriptor? pidfd = null;
        try
        {
            // Written before anything exists on the host, so that delete can clean up after a crash.
            directory.WriteState(state);
            void SetUpCgroups()
            {
                cgroups.Create(cgroup);
                cgroups.Apply(cgroup, spec.Linux?.Resources);
            }
            if (!cgroupsAfterClone)
                SetUpCgroups();
            if (!options.StartImmediately)
            {
                Errors.Check(Libc.mkfifo(directory.FifoPath, Convert.ToUInt32("622", 8)), "mkfifo", directory.FifoPath);
                // Writable by a container root that maps to an unprivileged host id (mkfifo obeys the umask).
                File.SetUnixFileMode(directory.FifoPath, (UnixFileMode)Convert.ToInt32("622", 8));
            }

            // The init gets a descriptor of its own: the locked one would keep the container locked while it waits for start.
            using var stateDirForInit = Libc.Open(directory.Path, Libc.O_PATH | Libc.O_DIRECTORY);
            using var idmaps = IdmapNamespaces.For(spec.Mounts ?? []);
            // Under a user namespace the runtime opens the bind sources (and idmaps them): the init could not.
            // Not for a runtime without root (rootless): it cannot enter the container's mount
            // namespace, and needs not, for the container's root is this same user or one of its
            // subordinate ids, which reach no more than it does; the init opens the sources itself.
            using var bindSources = Libc.geteuid() == 0 ? BindSources.For(spec, plan, rootfs) : null;
            // A listener socket is a host path the container's mapped root may not reach (a 0700
            // directory): under a user namespace the runtime connects and hands the socket down.
            using var listenerForInit = additions?.SeccompListenerFd >= 0 || bindSources is null || spec.Linux?.Seccomp?.ListenerPath is not { } listenerPath
                ? null
                : new FileDescriptor(SeccompListener.ConnectListener(listenerPath));
            var seccompListenerFd = additions?.SeccompListenerFd >= 0 ? additions.SeccompListenerFd : listenerForInit?.Fd ?? -1;
            var idmapsForInit = idmaps.FdsByMount;
            if (bindSources is not null && idmapsForInit.Count > 0)
            {
                idmapsForInit = new Dictionary<int, int>(idmapsForInit);
                foreach (var index in bindSources.Mounts)
                    idmapsForInit.Remove(index);
            }
            var message = new InitMessage
            {
                Id = options.Id,
                Spec = spec,
                Bundle = bundle,
                Rootfs = rootfs,
                NoPivot = options.NoPivot,
                NoNewKeyring = options.NoNewKeyring,
                PreserveFds = options.PreserveFds,
                StateDirFd = stateDirForInit.Fd,
                StartImmediately = options.StartImmediately,
                CgroupPath = cgroup.Path,
                IdmapFds = idmapsForInit.Count > 0 ? idmapsForInit : null,
                BindSourceMounts = bindSources?.Mounts,
                Seccomp = seccomp,
                Landlock = additions?.Landlock,
                SeccompListenerFd = seccompListenerFd,
                LendSeccompFd = additions?.SeccompListenerFd >= 0,
                Capabilities = capabilities,
                LastCapability = lastCapability,
                RuntimeHooks = HookRunner.Of(spec.Hooks, HookRunner.Prestart).Count + HookRunner.Of(spec.Hooks, HookRunner.CreateRuntime).Count > 0,
                CgroupHierarchies = cgroup.Directories.Select(d => new CgroupMountSource
                {
                    Name = d.Hierarchy.IsV2 ? (cgroupHost.IsPureV2 ? "" : "unified") : Path.GetFileName(d.Hierarchy.MountPoint),
                    Directory = d.Directory,
                    IsV2 = d.Hierarchy.IsV2,
                    Controllers = d.Hierarchy.Controllers.ToList(),
                }).ToList(),
            };
            var (pid, fd, channel, console) = InitSpawner.Spawn(spec, plan, cgroups, cgroup, [stateDirForInit.Fd, .. idmapsForInit.Values, .. (seccompListenerFd >= 0 ? [seccompListenerFd] : Array.Empty<int>())], message, options.PreserveFds, store.CacheDirectory,
                cgroupsAfterClone ? SetUpCgroups : null,
                initPid =>
                {
                    var stateJson = HookRunner.StateJson(options.Id, "creating", initPid, bundle, spec.Annotations);
                    HookRunner.RunAll(spec.Hooks, HookRunner.Prestart, stateJson);
                    HookRunner.RunAll(spec.Hooks, HookRunner.CreateRuntime, stateJson);
                }, bindSources, idmaps);
            pidfd = fd;
            using (channel)
            {
                state.Pid = pid;
                state.PidStartTime = ProcessInfo.Read(pid)?.StartTime ?? throw new RuntimeException("container init exited during create");
                debug?.Invoke($"create {options.Id}: init pid {pid} ready");
                state.Phase = RuntimeState.Phases.Created;
                directory.WriteState(state);
                if (options.PidFile is { } pidFile)
                    PidFile.Write(pidFile, pid);
                console = Terminal.ConsoleSocket.HandOff(console, options.ConsoleSocket);
                // From here the init outlives this process; until now it dies with it.
                channel.SendStateSaved();
                // run: poststart hooks come after the user's program was executed, which the init's
                // socket tells by its end-of-file (it is close-on-exec there).
                if (options.StartImmediately && HookRunner.Of(spec.Hooks, HookRunner.Poststart).Count > 0)
                    channel.WaitForExec();
            }
            return new Created(state, pidfd, console);
        }
        catch
        {
            pidfd?.Dispose();
            Cleanup.Remove(directory, state, cgroups);
            throw;
        }
    }

    /// <summary>Compiled filters, beside the state root and like it writable by root only (whoever writes an entry picks a container's filter).</summary>
    public static string SeccompCacheDirectory(StateStore store) => store.CacheDirectory + "/seccomp";
}
