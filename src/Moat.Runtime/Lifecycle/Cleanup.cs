using Moat.Interop;
using Moat.Runtime.Cgroups;
using Moat.Runtime.State;

namespace Moat.Runtime;

/// <summary>Everything delete must undo, in an order that also works after a crash half-way through create.</summary>
public static class Cleanup
{
    public static void Remove(ContainerDirectory directory, RuntimeState? state, ICgroupDriver cgroups)
    {
        if (state is not null)
        {
            // delete --force of a paused container: thaw first, a frozen process cannot die.
            Lifecycle.Freezer.EnsureThawed(state.CgroupDirectories);
            if (state.Pid > 0 && ProcessInfo.IsAlive(state.Pid, state.PidStartTime))
                KillAndWait(state.Pid);
            // Every process left in the cgroup goes too (a detached child of the init, or an init
            // whose creator died before it recorded the pid).
            if (state.CgroupCreated)
                cgroups.Destroy(state.CgroupDirectories);
            else
                foreach (var pid in cgroups.Pids(state.CgroupDirectories))
                    Libc.kill(pid, Libc.SIGKILL);
        }
        directory.Remove();
    }

    static unsafe void KillAndWait(int pid)
    {
        using var pidfd = Libc.TryPidfdOpen(pid);
        if (pidfd is null)
            return;
        Libc.PidfdSendSignal(pidfd, Libc.SIGKILL);
        // A pidfd turns readable when the process has exited (our child or not).
        var fd = new Libc.PollFd { Fd = pidfd.Fd, Events = Libc.POLLIN };
        Libc.poll(&fd, 1, 10_000);
    }
}
