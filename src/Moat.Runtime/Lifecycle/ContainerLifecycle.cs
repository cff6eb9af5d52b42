using Moat.Interop;
using Moat.Runtime.Cgroups;
using Moat.Runtime.State;

namespace Moat.Runtime.Lifecycle;

/// <summary>The container tier's start, kill, pause, resume and delete of a located container: each checks the status it needs first.</summary>
public sealed class ContainerLifecycle(ICgroupDriver cgroups, Action<string>? warn = null)
{
    readonly Action<string> warn = warn ?? (_ => { });

    public ICgroupDriver Cgroups { get; } = cgroups;

    /// <summary>Lets a created container's init exec the user process (opens the other end of exec.fifo); the caller holds its directory locked.</summary>
    public unsafe void Start(ContainerDirectory dir, ContainerView view)
    {
        switch (view.Status)
        {
            case ContainerStatus.Created:
                break;
            case ContainerStatus.Stopped:
                throw new RuntimeException("cannot start a container that has stopped");
            case ContainerStatus.Running or ContainerStatus.Paused:
                throw new RuntimeException("cannot start an already running container");
            default:
                throw new RuntimeException($"cannot start a container in the {view.Status.ToSpecString()} state");
        }
        var state = view.State!;
        using var pidfd = Libc.TryPidfdOpen(state.Pid) ?? throw new RuntimeException("cannot start a container that has stopped");
        using var fifo = Libc.Open(dir.FifoPath, Libc.O_RDONLY | Libc.O_NONBLOCK);
        // The init blocks opening the fifo for writing; now it writes one byte and goes on to exec.
        // If it dies instead, its pidfd turns readable.
        var fds = stackalloc Libc.PollFd[2];
        fds[0] = new Libc.PollFd { Fd = fifo.Fd, Events = Libc.POLLIN };
        fds[1] = new Libc.PollFd { Fd = pidfd.Fd, Events = Libc.POLLIN };
        while (true)
        {
            var n = Libc.poll(fds, 2, -1);
            if (n < 0 && Errors.LastErrno == Errors.EINTR)
                continue;
            Errors.Check(n, "poll", dir.FifoPath);
            break;
        }
        Span<byte> buffer = stackalloc byte[4096];
        var got = (fds[0].Revents & Libc.POLLIN) != 0 ? ReadNonBlocking(fifo, buffer) : 0;
        File.Delete(dir.FifoPath);
        if (got == 0)
            throw new RuntimeException("container init exited before start (see the container's stderr)");
        if (buffer[0] != (byte)'0')
            throw new RuntimeException(System.Text.Encoding.UTF8.GetString(buffer[1..got]));
        // The init's end is close-on-exec: end-of-file means the user's program was executed (or
        // the init died trying), and only then may poststart hooks run (runtime-spec). Without
        // such hooks start returns at once, as runc's does.
        if (Hooks.HookRunner.Of(state.Config?.Hooks, Hooks.HookRunner.Poststart).Count > 0)
        {
            WaitForEndOfFile(fifo);
            RunPoststart(state);
        }
    }

    static unsafe void WaitForEndOfFile(FileDescriptor fifo)
    {
        Span<byte> buffer = stackalloc byte[64];
        var pollFd = new Libc.PollFd { Fd = fifo.Fd, Events = Libc.POLLIN };
        while (true)
        {
            var n = Libc.poll(&pollFd, 1, -1);
            if (n < 0 && Errors.LastErrno == Errors.EINTR)
                continue;
            Errors.Check(n, "poll", "exec.fifo");
            try
            {
                if (Libc.Read(fifo.Fd, buffer, "exec.fifo") == 0)
                    return;
            }
            catch (SyscallException e) when (e.Errno == Errors.EAGAIN)
            {
                // Woken without data or end-of-file yet.
            }
        }
    }

    /// <summary>poststart hooks: after the user's program started; a failure is a warning (runtime-spec).</summary>
    public void RunPoststart(RuntimeState state) =>
        Hooks.HookRunner.RunAllWarning(state.Config?.Hooks, Hooks.HookRunner.Poststart,
            Hooks.HookRunner.StateJson(state.Id, "running", state.Pid, state.Bundle, state.Annotations), warn);

    static int ReadNonBlocking(FileDescriptor fd, Span<byte> buffer)
    {
        try
        {
            return Libc.Read(fd.Fd, buffer, "exec.fifo");
        }
        catch (SyscallException e) when (e.Errno == Errors.EAGAIN)
        {
            return 0;
        }
    }

    /// <summary>kill: the init, or with all every process of the cgroup; the caller holds the container's directory locked.</summary>
    public void Kill(ContainerView view, int signal, bool all)
    {
        var id = view.Id;
        var state = view.State;
        // Rootless without a delegated cgroup the container has none to list: the init stands for all (SIGKILL to
        // the init of a pid namespace ends every process in it, as the kernel does for any pid 1).
        if (all && state?.CgroupDirectories is not { Count: > 0 })
        {
            if (state is null || view.Status is ContainerStatus.Stopped or ContainerStatus.Creating)
                return; // as with an empty cgroup: nothing to signal
            all = false;
        }
        if (all)
        {
            // SIGKILL to a whole cgroup v2 is one write to cgroup.kill: no race with processes
            // forking while we walk the list.
            var cgroupKill = (state?.CgroupDirectories ?? []).Select(d => Path.Combine(d, "cgroup.kill")).FirstOrDefault(File.Exists);
            if (signal == Libc.SIGKILL && cgroupKill is not null)
            {
                Libc.WriteFile(cgroupKill, "1");
                return;
            }
            // Every process of the cgroup, the init among them, gets the signal once (also those a
            // stopped init left behind, as runc does).
            foreach (var pid in Cgroups.Pids(state?.CgroupDirectories ?? []))
                Libc.kill(pid, signal);
            return;
        }
        if (state is null || view.Status is ContainerStatus.Stopped or ContainerStatus.Creating)
            throw new RuntimeException("container not running");
        using var pidfd = Libc.TryPidfdOpen(state.Pid);
        // Check after opening: the pidfd pins the process, so the start time cannot change under us.
        if (pidfd is null || !ProcessInfo.IsAlive(state.Pid, state.PidStartTime))
            throw new RuntimeException("container not running");
        if (Libc.PidfdSendSignal(pidfd, signal) < 0 && Errors.LastErrno != Errors.ESRCH)
            throw new SyscallException("kill", Errors.LastErrno, $"container {id}");
    }

    /// <summary>pause: freezes every process of a running container.</summary>
    public void Pause(ContainerView view)
    {
        if (view.Status is not ContainerStatus.Running)
            throw new RuntimeException(view.Status == ContainerStatus.Paused ? "container is already paused" : "container not running");
        Cgroups.SetFrozen(view.State!.CgroupDirectories, frozen: true);
    }

    /// <summary>resume: thaws a paused container.</summary>
    public void Resume(ContainerView view)
    {
        if (view.Status is not ContainerStatus.Paused)
            throw new RuntimeException("container not paused");
        Cgroups.SetFrozen(view.State!.CgroupDirectories, frozen: false);
    }

    /// <summary>Removes a stopped (or, with force, any) container: processes, cgroups, state; the caller holds its directory locked.</summary>
    public void Delete(ContainerDirectory dir, ContainerView view, bool force)
    {
        if (view.Status is ContainerStatus.Running or ContainerStatus.Paused && !force)
            throw new RuntimeException($"cannot delete container {view.Id} that is not stopped: {view.Status.ToSpecString()}");
        Cleanup.Remove(dir, view.State, Cgroups);
        // poststop hooks: after the container is gone, before delete returns; failures are warnings.
        if (view.State is { Phase: RuntimeState.Phases.Created } state)
            Hooks.HookRunner.RunAllWarning(state.Config?.Hooks, Hooks.HookRunner.Poststop,
                Hooks.HookRunner.StateJson(view.Id, "stopped", 0, state.Bundle, state.Annotations), warn);
    }
}
