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
/// or one line that says what failed. The answer is awaited after the container's create, which
/// runs while the supervisor starts (one more start of this binary: a few milliseconds).
/// </summary>
public sealed class SupervisorLauncher
{
    public const string Verb = "sandbox-supervise";

    SupervisorLauncher(int pid, FileDescriptor control)
    {
        Pid = pid;
        this.control = control;
    }

    readonly FileDescriptor control;

    public int Pid { get; }
    /// <summary>Its start time (/proc), known once it is <see cref="WaitReady">ready</see>.</summary>
    public ulong StartTime { get; private set; }

    /// <summary>
    /// Spawns the supervisor and hands it the policy; does not wait for it to be ready, so that the
    /// container's create runs meanwhile (<see cref="WaitReady"/> before the container is handed back).
    /// </summary>
    public static SupervisorLauncher Start(string executable, StateStore store, string id, string socketPath, SandboxPolicy policy, FileDescriptor initConnection,
        IReadOnlyList<string>? reportArgs = null)
    {
        var (control, controlForSupervisor) = Libc.SocketPair();
        int pid;
        try
        {
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
        }
        catch
        {
            control.Dispose();
            throw;
        }
        var launcher = new SupervisorLauncher(pid, control);
        try
        {
            // The policy is small: it fits the socket's buffer, so this does not wait for the supervisor.
            Libc.WriteAll(control.Fd, PolicyJson.Write(policy), "sandbox supervisor");
            Libc.shutdown(control.Fd, Libc.SHUT_WR);
        }
        catch
        {
            launcher.Stop();
            throw;
        }
        return launcher;
    }

    /// <summary>Waits for the supervisor's "ok" (its exec socket listens); its error as a RuntimeException, after stopping it.</summary>
    public void WaitReady()
    {
        try
        {
            var answer = ReadAll(control.Fd);
            if (answer != "ok")
                throw new RuntimeException(answer.Length > 0 ? $"sandbox supervisor: {answer}" : "the sandbox supervisor exited before it was ready");
            StartTime = ProcessInfo.Read(Pid)?.StartTime ?? throw new RuntimeException("the sandbox supervisor exited before it was ready");
        }
        catch
        {
            Stop();
            throw;
        }
        finally
        {
            control.Dispose();
        }
    }

    /// <summary>Kills the supervisor this process started (its child: the pid cannot have been reused before this reaps it) and reaps it.</summary>
    public void Stop()
    {
        Libc.kill(Pid, Libc.SIGKILL);
        Libc.Reap(Pid);
        control.Dispose();
    }

    /// <summary>Kills a supervisor recorded in state (another process started it), exactly it: by pidfd, after checking its start time.</summary>
    public static void StopExisting(int pid, ulong startTime)
    {
        using var pidfd = Libc.TryPidfdOpen(pid);
        if (pidfd is null || !ProcessInfo.IsAlive(pid, startTime))
            return;
        Libc.PidfdSendSignal(pidfd, Libc.SIGKILL);
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
