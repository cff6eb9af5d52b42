using System.Text;
using Moat.Interop;
using Moat.Runtime.Create;
using Moat.Runtime.Hooks;
using Moat.Runtime.Protocol;
using Moat.Runtime.Seccomp;
using Moat.Runtime.Rootfs;

namespace Moat.Runtime.Init;

/// <summary>
/// The init stage: the moat binary re-executed (from its sealed copy) inside the container's new
/// namespaces as the future container process. It builds the root filesystem, reports to the
/// runtime, waits for start, and execs the user's process.
/// </summary>
public static class ContainerInit
{
    public static int Run()
    {
        var fdText = Environment.GetEnvironmentVariable(InitEnvironment.SyncFdVariable);
        if (!int.TryParse(fdText, out var syncFd))
        {
            WriteStderr("moat init: runs only as part of create; use `moat create` or `moat run`");
            return 2;
        }
        var channel = new SyncChannel(new FileDescriptor(syncFd));
        InitMessage init;
        ProcessLaunch launch;
        try
        {
            if (channel.ReceiveConfig() is not { } received)
                return 1; // the runtime died before it sent anything
            init = received;
            // Every process moat starts leads a session and process group of its own (runc and crun
            // do the same): a signal an engine sends its own group does not reach it, and the
            // caller's terminal is not its controlling terminal, so it cannot push input into it
            // (TIOCSTI). With process.terminal the pty becomes this session's terminal later.
            Errors.Check(Libc.setsid(), "setsid");
            var plan = NamespacePlan.From(init.Spec.Linux);
            // A new network namespace starts with lo down; 127.0.0.1 must work (runc and crun bring
            // it up). A joined one is left as its owner set it.
            if (plan.NewNetwork && !init.Exec)
                BringLoopbackUp();
            // The seccomp listener's socket is a host path: connect while the host's view is still ours.
            // A tier may hand down a socket already connected to its supervisor (the sandbox tier's:
            // the container's root cannot reach a path in the runtime's state root).
            var listener = init.Seccomp is not { HasListener: true } ? -1
                : init.SeccompListenerFd >= 0 ? init.SeccompListenerFd
                : init.Seccomp.ListenerPath is { } listenerPath ? SeccompListener.ConnectListener(listenerPath) : -1;
            var hookState = HookRunner.StateJson(init.Id, "creating", Environment.ProcessId, init.Bundle, init.Spec.Annotations);
            var placed = false;
            // The runtime moves us into our v1 cgroups while we start up; wait for that before
            // anything depends on it: the cgroup namespace (rooted at the cgroup we are in when we
            // make it), the cgroupfs mount, hooks, and the user's process.
            void EnsurePlaced()
            {
                if (placed)
                    return;
                channel.ReceivePlaced();
                placed = true;
                if (plan.NewCgroup && !init.Exec)
                    Errors.Check(Libc.unshare((int)(uint)Oci.NamespaceType.GetCloneFlag(Oci.NamespaceType.Cgroup)), "unshare cgroup namespace");
            }
            void BeforePivot()
            {
                EnsurePlaced();
                if (init.RuntimeHooks)
                    channel.WaitForRuntimeHooks();
                HookRunner.RunAll(init.Spec.Hooks, HookRunner.CreateContainer, hookState);
            }
            // The root filesystem: decided first (RootfsPlanner), then applied. Hooks and the wait
            // for the cgroup placement are the plan's checkpoints.
            var rootfsPlan = RootfsPlanner.Plan(init, plan, HostRootfsFacts.Instance);
            var rootfs = new RootfsExecutor(RootfsSyscalls.Instance, point =>
            {
                if (point == RootfsCheckpoint.BeforePivot)
                    BeforePivot();
                else
                    EnsurePlaced();
            });
            rootfs.Run(rootfsPlan.Setup);
            EnsurePlaced();
            launch = new ProcessLaunch(ProcessPlanner.Plan(init, plan, ProcessSyscalls.SetgroupsDenied()), new ProcessSyscalls(init, listener));
            // Sysctls go through /proc/sys before it turns read-only (runc's order).
            launch.Prepare();
            rootfs.Run(rootfsPlan.Finish);
            if (init.Spec.Process!.Terminal)
            {
                launch.Terminal = SetUpConsole(init, channel);
                // The container's stdio is the terminal: let go of create's stdio now, not at start.
                // containerd's shim reads create's output to end-of-file before it calls start.
                if (!init.Exec)
                    for (var fd = 0; fd <= 2; fd++)
                        Errors.Check(Libc.dup3(launch.Terminal.Fd, fd, 0), "dup terminal");
            }
            launch.ResolveExecutable();
            launch.ResolveEnvironment();
            // From here a dead runtime shows as end-of-file on the socket, not as a signal: clearing
            // the parent-death signal later would race with a create that exits at once.
            Libc.prctl(Libc.PR_SET_PDEATHSIG, 0, 0, 0, 0);
            channel.SendCreated();
            if (!channel.ReceiveStateSaved())
                return 1; // the runtime died before it recorded us: die with it
        }
        catch (Exception e)
        {
            try
            {
                channel.SendError(Describe(e));
            }
            catch (SyscallException)
            {
                // The runtime is gone; nothing to tell.
            }
            return 1;
        }

        if (init.StartImmediately)
        {
            // run: the socket stays open until the execve closes it (close-on-exec), so the runtime
            // sees end-of-file once the user's program was executed, and only then runs poststart
            // hooks (runtime-spec). Not closed by a finalizer either: the handle is let go.
            Libc.SetCloseOnExec(channel.Socket.Fd, true);
            channel.Socket.SetHandleAsInvalid();
        }
        else
            channel.Dispose();
        try
        {
            // startContainer hooks: at start, in the container, before the user's program runs.
            var startState = HookRunner.StateJson(init.Id, "created", Environment.ProcessId, init.Bundle, init.Spec.Annotations);
            void AtStart() => HookRunner.RunAll(init.Spec.Hooks, HookRunner.StartContainer, startState);
            if (init.StartImmediately)
                AtStart();
            else
                ProcessLaunch.WaitForStart(init.StateDirFd, AtStart);
            if (init.StateDirFd >= 0)
                Libc.close(init.StateDirFd);
            launch.Exec();
            return 127;
        }
        catch (Exception e)
        {
            WriteStderr($"moat: {Describe(e)}");
            return 127;
        }
    }

    /// <summary>Our own errors by their message, the framework's in words (its texts are resource keys here), anything else in full.</summary>
    static string Describe(Exception e) => e switch
    {
        RuntimeException or SyscallException => e.Message,
        IOException or UnauthorizedAccessException => Oci.ErrorText.Of(e),
        _ => e.ToString(),
    };

    static void BringLoopbackUp()
    {
        try
        {
            Libc.SetInterfaceUp("lo");
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"cannot bring up the loopback interface of the container's network namespace: {e.Message}", e);
        }
    }

    /// <summary>
    /// One write(2) to stderr. The container's seccomp filter may be loaded by now, and Console's
    /// first use starts a thread (clone3), which such a filter may deny: the message would be lost
    /// and the process would crash instead of exiting with 127.
    /// </summary>
    static unsafe void WriteStderr(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        fixed (byte* p = bytes)
            Libc.write(2, p, bytes.Length);
    }

    /// <summary>
    /// process.terminal: a pty from the container's own devpts, its slave as /dev/console (for the
    /// container's init) and later as stdio; the master goes to the runtime (SCM_RIGHTS), which
    /// hands it to --console-socket or relays it to the caller's terminal.
    /// </summary>
    static FileDescriptor SetUpConsole(InitMessage init, SyncChannel channel)
    {
        var (master, slave, number) = Libc.OpenPty("/dev/ptmx");
        using (master)
        {
            var process = init.Spec.Process!;
            // The container's user must be able to use its terminal.
            Errors.Check(Libc.fchown(slave.Fd, process.User.Uid, process.User.Gid), "chown terminal");
            if (!init.Exec)
            {
                var console = "/dev/console";
                if (!File.Exists(console))
                    File.WriteAllBytes(console, []);
                Libc.Mount($"/dev/pts/{number}", console, null, Libc.MS_BIND, null);
            }
            if (process.ConsoleSize is { } size)
                Libc.SetWindowSize(master.Fd, (ushort)size.Height, (ushort)size.Width);
            channel.SendConsole(master);
        }
        return slave;
    }
}
