using Moat.Interop;
using Moat.Runtime.Cgroups;
using Moat.Runtime.State;

namespace Moat.Runtime;

/// <summary>Everything delete must undo, in an order that also works after a crash half-way through create.</summary>
public static class Cleanup
{
    public static void Remove(ContainerDirectory directory, RuntimeState? state)
    {
        if (state is not null)
        {
            // A frozen process cannot die: thaw first (delete --force of a paused container).
            foreach (var dir in state.CgroupDirectories)
            {
                var freezer = Path.Combine(dir, "freezer.state");
                if (File.Exists(freezer) && File.ReadAllText(freezer).Trim() != "THAWED")
                    Libc.WriteFile(freezer, "THAWED");
                var freeze = Path.Combine(dir, "cgroup.freeze");
                if (File.Exists(freeze) && File.ReadAllText(freeze).Trim() == "1")
                    Libc.WriteFile(freeze, "0");
            }
            if (state.Pid > 0 && ProcessInfo.IsAlive(state.Pid, state.PidStartTime))
                KillAndWait(state.Pid);
            // Every process left in the cgroup goes too (a detached child of the init, or an init
            // whose creator died before it recorded the pid).
            if (state.CgroupCreated)
                ContainerCgroup.Destroy(state.CgroupDirectories);
            else
                foreach (var pid in ContainerCgroup.Pids(state.CgroupDirectories))
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
