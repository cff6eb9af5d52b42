using Moat.Interop;
using Moat.Oci;
using Moat.Runtime.Cgroups;
using Moat.Runtime.Create;
using Moat.Runtime.Lifecycle;
using Moat.Runtime.Protocol;
using Moat.Runtime.Seccomp;
using Moat.Runtime.State;
using ContainerStatus = Moat.Runtime.State.ContainerStatus;

namespace Moat.Runtime.Exec;

/// <summary>
/// exec: a new process inside a running container. It joins every namespace of the container's
/// init (through /proc/PID/ns), is born into the container's cgroup, and gets its own process
/// settings (user, capabilities, no_new_privs, labels) from the init stage in exec mode.
/// </summary>
public sealed class ContainerExec(StateStore store, Action<string>? debug = null, Action<string>? warn = null)
{
    public sealed record Started(int Pid, FileDescriptor Pidfd, FileDescriptor? Console = null);

    /// <summary>
    /// What the init stage gets for an exec: the process as built, the container's root and seccomp
    /// profile, and every namespace of the init by its /proc entry (the ones the container created
    /// and the ones it joined alike).
    /// </summary>
    public static InitMessage InitMessageFor(ExecOptions options, RuntimeState state, Spec config, CompiledSeccompFilter? seccomp)
    {
        var linux = new Linux
        {
            Namespaces = (config.Linux?.Namespaces ?? [])
                .Select(n => new LinuxNamespace { Type = n.Type, Path = $"/proc/{state.Pid}/ns/{NamespaceType.GetProcFileName(n.Type)}" })
                .ToList(),
            Seccomp = config.Linux?.Seccomp,
        };
        return new InitMessage
        {
            Id = options.Id,
            Spec = new Spec { OciVersion = config.OciVersion, Root = config.Root, Process = options.Process, Linux = linux },
            Bundle = state.Bundle,
            Rootfs = state.Rootfs,
            Exec = true,
            StartImmediately = true,
            NoNewKeyring = true,
            PreserveFds = options.PreserveFds,
            StateDirFd = -1,
            CgroupPath = state.CgroupPath,
            Seccomp = seccomp,
        };
    }

    /// <summary>Starts the process in the container <paramref name="view"/> shows (the caller started the cgroup warm-up: <see cref="MigrationWarmup"/>).</summary>
    /// <param name="additions">What a tier adds to the init message (the sandbox tier: its Landlock ruleset and a socket connected to its supervisor).</param>
    public Started Start(ContainerView view, ExecOptions options, InitAdditions? additions = null)
    {
        var cgroupHost = Host.HostContext.Current.Cgroups;
        switch (view.Status)
        {
            case ContainerStatus.Running or ContainerStatus.Created:
                break;
            case ContainerStatus.Paused when options.IgnorePaused:
                break;
            case ContainerStatus.Paused:
                throw new RuntimeException("cannot exec in a paused container (use --ignore-paused to exec anyway)");
            default:
                throw new RuntimeException($"cannot exec in a {view.Status.ToSpecString()} container");
        }
        var state = view.State!;
        var config = state.Config ?? throw new RuntimeException($"container \"{options.Id}\" has no recorded configuration");
        var process = options.Process;
        if (process.Args is not { Count: > 0 })
            throw new RuntimeException("exec: no command given (args is empty)");
        Terminal.ConsoleSocket.Check(process.Terminal, options.ConsoleSocket, options.Foreground);
        var lastCapability = Libc.LastCapability();
        var capabilities = HostSupport.GrantableCapabilities(process.Capabilities, lastCapability, warn);

        HostSupport.CheckProcess(process);
        if (config.Linux?.Seccomp is { } checkedProfile)
            Seccomp.SeccompCompiler.CheckHandover(checkedProfile, additions is { SeccompListenerFd: >= 0 });
        var seccomp = config.Linux?.Seccomp is { } profile ? Seccomp.SeccompCache.GetOrCompile(profile, ContainerCreator.SeccompCacheDirectory(store)) : null;
        // An exec'd process loads the filter itself and hands its own notification descriptor to the
        // listener (runc does the same). The socket is a host path, out of the container's view (the
        // process joins its mount namespace before .NET starts): the runtime connects and hands it down.
        using var listenerForExec = additions is { SeccompListenerFd: >= 0 } || seccomp is not { HasListener: true }
            || config.Linux?.Seccomp?.ListenerPath is not { } listenerPath
            ? null
            : new FileDescriptor(Seccomp.SeccompListener.ConnectListener(listenerPath));
        if (seccomp is { HasListener: true } && additions is not { SeccompListenerFd: >= 0 } && listenerForExec is null)
            throw new RuntimeException("linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
        var listenerFd = additions?.SeccompListenerFd >= 0 ? additions.SeccompListenerFd : listenerForExec?.Fd ?? -1;
        var cgroup = ContainerCgroup.For(cgroupHost, state.CgroupPath);
        // Rootless: the container is only in the hierarchies the user could write (RootlessCgroup), so is the exec.
        if (Libc.geteuid() != 0 || HostSupport.InUserNamespace)
            cgroup = cgroup.WritableOnly(out _);
        var message = InitMessageFor(options, state, config, seccomp);
        message.Capabilities = capabilities;
        message.LastCapability = lastCapability;
        message.Landlock = additions?.Landlock;
        message.SeccompListenerFd = listenerFd;
        message.LendSeccompFd = additions is { SeccompListenerFd: >= 0 };
        var plan = NamespacePlan.From(message.Spec.Linux);
        debug?.Invoke($"exec {options.Id}: joining {string.Join(", ", plan.Joins.Select(j => j.Type))} of pid {state.Pid}");

        // The pidfd pins the init while we join its namespaces; a reused pid would be another process.
        using var initPidfd = Libc.TryPidfdOpen(state.Pid);
        if (initPidfd is null || !ProcessInfo.IsAlive(state.Pid, state.PidStartTime))
            throw new RuntimeException("cannot exec in a stopped container");

        var (pid, pidfd, channel, console) = InitSpawner.Spawn(message.Spec, plan, CgroupDrivers.For(Host.HostContext.Current, warn), cgroup, listenerFd >= 0 ? [listenerFd] : [], message, options.PreserveFds, store.CacheDirectory);
        using (channel)
        {
            try
            {
                if (options.PidFile is { } pidFile)
                    PidFile.Write(pidFile, pid);
                console = Terminal.ConsoleSocket.HandOff(console, options.ConsoleSocket);
            }
            catch
            {
                Libc.PidfdSendSignal(pidfd, Libc.SIGKILL);
                pidfd.Dispose();
                throw;
            }
            channel.SendStateSaved();
        }
        return new Started(pid, pidfd, console);
    }
}
