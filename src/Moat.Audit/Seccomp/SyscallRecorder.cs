using Moat.Interop;

namespace Moat.Audit.Seccomp;

/// <summary>
/// The supervisor's side of a recording: every call the container's filter traps is noted and let
/// through unchanged (SECCOMP_USER_NOTIF_FLAG_CONTINUE), so the program runs as it would unfiltered.
/// One exception: clone3 is answered ENOSYS, as Docker's default profile does for every unprivileged
/// container; the C library then falls back to clone, whose flags (unlike clone3's, which sit in
/// memory) a profile can check, and the profile later written holds the same answer.
/// </summary>
public static class SyscallRecorder
{
    const int ENOSYS = 38;

    /// <summary>Records until every process using the filter has exited (the descriptor hangs up).</summary>
    public static unsafe SyscallRecording Record(int notifyFd, CancellationToken cancellation = default)
    {
        var recording = new SyscallRecording();
        var names = new Dictionary<(uint, int), string?>();
        var poll = new Libc.PollFd { Fd = notifyFd, Events = Libc.POLLIN };
        while (!cancellation.IsCancellationRequested)
        {
            poll.Revents = 0;
            var ready = Libc.poll(&poll, 1, 250);
            if (ready < 0)
            {
                if (Errors.LastErrno == Errors.EINTR)
                    continue;
                throw new SyscallException("poll", Errors.LastErrno, "seccomp notification descriptor");
            }
            if (ready == 0)
                continue;
            if ((poll.Revents & Libc.POLLIN) == 0)
                break; // POLLHUP or POLLERR alone: no task uses the filter any more
            if (!Libc.SeccompReceive(notifyFd, out var notification))
                continue;
            var data = notification.Data;
            var key = (data.Arch, data.Nr);
            if (!names.TryGetValue(key, out var name))
                names[key] = name = Libseccomp.SyscallName(data.Arch, data.Nr);
            if (name is null)
                recording.AddUnnamed(data.Arch, data.Nr);
            else
            {
                recording.Add(data.Arch, name);
                if (name == "clone")
                    recording.AddCloneFlags(CloneFlagsOf(data));
                else if (name == "socket")
                    recording.AddSocketFamily((int)(data.Args[0] & 0xffffffff));
            }
            if (name == "clone3")
                Libc.SeccompRespond(notifyFd, notification.Id, 0, -ENOSYS, 0);
            else
                Libc.SeccompRespond(notifyFd, notification.Id, 0, 0, Libc.SECCOMP_USER_NOTIF_FLAG_CONTINUE);
        }
        return recording;
    }

    // clone's flags are its first argument on x86 and arm; s390 swaps the first two (the kernel's
    // CONFIG_CLONE_BACKWARDS2), which this build does not target.
    static unsafe ulong CloneFlagsOf(Libc.SeccompData data) => data.Args[0];
}
