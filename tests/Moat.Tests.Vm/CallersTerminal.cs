using System.Collections;
using Moat.Interop;

namespace Moat.Tests.Vm;

/// <summary>
/// A terminal the test plays the user at: a pty whose slave is a command's stdin, stdout, stderr
/// and controlling terminal (<c>setsid --ctty</c>), as when someone types the command at a shell.
/// The test types on the master and reads what the command shows (<see cref="Screen"/>), resizes
/// the window (the command gets SIGWINCH), and waits for the command's exit status.
/// </summary>
sealed class CallersTerminal : IDisposable
{
    readonly FileDescriptor master;
    readonly FileDescriptor pidfd;
    bool reaped;

    public Terminal Screen { get; }

    CallersTerminal(FileDescriptor master, FileDescriptor pidfd)
    {
        this.master = master;
        this.pidfd = pidfd;
        Screen = new Terminal(master);
    }

    /// <summary>Runs <paramref name="shellCommand"/> (through /bin/sh, exec'd) on a new terminal of <paramref name="rows"/> x <paramref name="columns"/>.</summary>
    public static CallersTerminal Start(string shellCommand, IDictionary<string, string> environment, ushort rows, ushort columns)
    {
        var (master, slave, _) = Libc.OpenPty("/dev/ptmx");
        try
        {
            Libc.SetWindowSize(master.Fd, rows, columns);
            var env = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
            foreach (var (key, value) in environment)
                env[key] = value;
            int pid;
            using (slave)
                // The child is no group leader, so setsid(1) makes its session without forking: the pid is the command's.
                pid = Libc.SpawnDetached("/usr/bin/setsid", ["setsid", "--ctty", "/bin/sh", "-c", "exec " + shellCommand],
                    env.Select(e => $"{e.Key}={e.Value}").ToList(), [(slave.Fd, 0), (slave.Fd, 1), (slave.Fd, 2)], newSession: false);
            return new CallersTerminal(master, Libc.PidfdOpen(pid));
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    public void Resize(ushort rows, ushort columns) => Libc.SetWindowSize(master.Fd, rows, columns);

    /// <summary>The command's exit status (the deadline only bounds a failure).</summary>
    public unsafe int WaitForExit()
    {
        var poll = new Libc.PollFd { Fd = pidfd.Fd, Events = Libc.POLLIN };
        if (Libc.poll(&poll, 1, (int)TimeSpan.FromMinutes(2).TotalMilliseconds) <= 0)
            throw new Xunit.Sdk.XunitException($"the command on the terminal did not exit; the terminal showed: {Screen.Text}");
        reaped = true;
        return Libc.WaitExitCode(pidfd);
    }

    public void Dispose()
    {
        if (!reaped)
        {
            Libc.PidfdSendSignal(pidfd, Libc.SIGKILL);
            Libc.WaitExitCode(pidfd);
        }
        pidfd.Dispose();
        Screen.Dispose();
    }
}
