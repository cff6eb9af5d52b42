using System.Runtime.InteropServices;
using Moat.Interop;

namespace Moat.Runtime.Terminal;

/// <summary>
/// A foreground run or exec with a terminal: the caller's terminal goes raw, its input is copied to
/// the container's pty and the pty's output to our stdout, window size changes follow (SIGWINCH),
/// and the caller's terminal modes come back at the end.
/// </summary>
public sealed unsafe class TerminalRelay : IDisposable
{
    readonly FileDescriptor master;
    readonly Thread output;
    readonly PosixSignalRegistration? resize;
    Libc.Termios saved;
    readonly bool restore;

    public TerminalRelay(FileDescriptor master)
    {
        this.master = master;
        if (Libc.isatty(0) == 1)
        {
            Libc.Termios raw;
            fixed (Libc.Termios* s = &saved)
                restore = Libc.tcgetattr(0, s) == 0;
            if (restore)
            {
                raw = saved;
                Libc.cfmakeraw(&raw);
                Libc.tcsetattr(0, Libc.TCSANOW, &raw);
            }
            CopyWindowSize();
            resize = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => CopyWindowSize());
        }
        new Thread(() => Pump(0, master.Fd)) { IsBackground = true, Name = "terminal input" }.Start();
        output = new Thread(() => Pump(master.Fd, 1)) { IsBackground = true, Name = "terminal output" };
        output.Start();
    }

    void CopyWindowSize()
    {
        if (Libc.GetWindowSize(0) is { } size)
            Libc.ioctl(master.Fd, Libc.TIOCSWINSZ, (nint)(&size));
    }

    /// <summary>Copies until end of file or error (EIO on the master once every slave is closed).</summary>
    static void Pump(int from, int to)
    {
        var buffer = new byte[16384];
        while (true)
        {
            int n;
            try
            {
                n = Libc.Read(from, buffer, "terminal");
            }
            catch (SyscallException)
            {
                return;
            }
            if (n == 0)
                return;
            try
            {
                Libc.WriteAll(to, buffer.AsSpan(0, n), "terminal");
            }
            catch (SyscallException)
            {
                return;
            }
        }
    }

    /// <summary>After the process exited: let its last output through, then give the terminal back.</summary>
    public void Dispose()
    {
        output.Join(TimeSpan.FromSeconds(2));
        resize?.Dispose();
        if (restore)
            fixed (Libc.Termios* s = &saved)
                Libc.tcsetattr(0, Libc.TCSANOW, s);
        master.Dispose();
    }
}
