using System.Text;
using Moat.Interop;
using Moat.Runtime;
using Moat.Runtime.State;
using Moat.Sandbox.Policy;

namespace Moat.Sandbox.Tier;

/// <summary>
/// Starts a container's supervisor: `moat-runtime sandbox-supervise`, the same binary (the broker is
/// compiled in; nothing of it runs unless this verb is asked for), detached in a session of its own,
/// stdio on /dev/null (an engine reads create's output to its end: the supervisor must not hold it).
/// The policy goes over a control socket; the supervisor answers "ok" once its exec socket listens,
/// or one line that says what failed.
/// </summary>
public sealed class SupervisorLauncher
{
    public const string Verb = "sandbox-supervise";

    SupervisorLauncher(int pid, ulong startTime)
    {
        Pid = pid;
        StartTime = startTime;
    }

    public int Pid { get; }
    public ulong StartTime { get; }

    public static SupervisorLauncher Start(string executable, StateStore store, string id, string socketPath, SandboxPolicy policy, FileDescriptor initConnection,
        IReadOnlyList<string>? reportArgs = null)
    {
        var (control, controlForSupervisor) = Libc.SocketPair();
        using var _ = control;
        int pid;
        using (controlForSupervisor)
        using (initConnection)
        using (var devNull = Libc.Open("/dev/null", Libc.O_RDWR))
        {
            // Only these two cross the spawn (every other descriptor of ours is close-on-exec).
            Libc.SetCloseOnExec(controlForSupervisor.Fd, false);
            Libc.SetCloseOnExec(initConnection.Fd, false);
            pid = Libc.Spawn(executable,
                [Path.GetFileName(executable), Verb, "--root", store.Root, "--id", id, "--socket", socketPath,
                 "--control-fd", controlForSupervisor.Fd.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 "--init-fd", initConnection.Fd.ToString(System.Globalization.CultureInfo.InvariantCulture), .. reportArgs ?? []],
                ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], devNull.Fd, devNull.Fd, devNull.Fd, defaultSignals: true);
        }
        try
        {
            Libc.WriteAll(control.Fd, PolicyJson.Write(policy), "sandbox supervisor");
            Libc.shutdown(control.Fd, Libc.SHUT_WR);
            var answer = ReadAll(control.Fd);
            if (answer != "ok")
                throw new RuntimeException(answer.Length > 0 ? $"sandbox supervisor: {answer}" : "the sandbox supervisor exited before it was ready");
            var startTime = ProcessInfo.Read(pid)?.StartTime ?? throw new RuntimeException("the sandbox supervisor exited before it was ready");
            return new SupervisorLauncher(pid, startTime);
        }
        catch
        {
            Libc.kill(pid, Libc.SIGKILL);
            Reap(pid);
            throw;
        }
    }

    /// <summary>Kills the supervisor this process started and reaps it.</summary>
    public void Stop()
    {
        if (ProcessInfo.IsAlive(Pid, StartTime))
            Libc.kill(Pid, Libc.SIGKILL);
        Reap(Pid);
    }

    /// <summary>Kills a supervisor recorded in state (another process started it), exactly it: by pidfd, after checking its start time.</summary>
    public static void StopExisting(int pid, ulong startTime)
    {
        using var pidfd = Libc.TryPidfdOpen(pid);
        if (pidfd is null || !ProcessInfo.IsAlive(pid, startTime))
            return;
        Libc.PidfdSendSignal(pidfd, Libc.SIGKILL);
    }

    static unsafe void Reap(int pid)
    {
        int status;
        while (Libc.waitpid(pid, &status, 0) < 0 && Errors.LastErrno == Errors.EINTR)
        {
        }
    }

    static unsafe string ReadAll(int fd)
    {
        var bytes = new List<byte>();
        var buffer = stackalloc byte[512];
        while (true)
        {
            var n = Libc.read(fd, buffer, 512);
            if (n < 0 && Errors.LastErrno == Errors.EINTR)
                continue;
            if (n <= 0)
                break;
            bytes.AddRange(new ReadOnlySpan<byte>(buffer, (int)n));
        }
        return Encoding.UTF8.GetString(bytes.ToArray()).Trim();
    }
}
