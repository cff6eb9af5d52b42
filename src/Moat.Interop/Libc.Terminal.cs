using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Pseudoterminals, controlling terminals and terminal modes.</summary>
public static unsafe partial class Libc
{
    public const ulong TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, TIOCSCTTY = 0x540E, TIOCGPTN = 0x80045430,
        TIOCSPTLCK = 0x40045431, TIOCGPTPEER = 0x5441;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, ulong request, nint argument);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial int isatty(int fd);

    [StructLayout(LayoutKind.Sequential)]
    public struct WinSize
    {
        public ushort Rows, Columns, XPixels, YPixels;
    }

    /// <summary>struct termios as glibc defines it (60 bytes); only copied and made raw here.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 60)]
    public struct Termios
    {
        public uint InputFlags, OutputFlags, ControlFlags, LocalFlags;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int tcgetattr(int fd, Termios* termios);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int tcsetattr(int fd, int when, Termios* termios);

    [LibraryImport("libc")]
    public static partial void cfmakeraw(Termios* termios);

    public const int TCSANOW = 0;

    /// <summary>
    /// Opens a new pseudoterminal pair from the ptmx at <paramref name="ptmx"/> (so from the devpts
    /// instance that path belongs to): the master, the slave (opened through the master, no path
    /// lookup), and the slave's number.
    /// </summary>
    public static (FileDescriptor Master, FileDescriptor Slave, int Number) OpenPty(string ptmx)
    {
        var master = Open(ptmx, O_RDWR | O_NOCTTY);
        try
        {
            int unlock = 0, number;
            Errors.Check(ioctl(master.Fd, TIOCSPTLCK, (nint)(&unlock)), "unlock pty", ptmx);
            Errors.Check(ioctl(master.Fd, TIOCGPTN, (nint)(&number)), "pty number", ptmx);
            var slave = Errors.Check(ioctl(master.Fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC), "open pty slave", ptmx);
            return (master, new FileDescriptor(slave), number);
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    public static void SetWindowSize(int fd, ushort rows, ushort columns)
    {
        var size = new WinSize { Rows = rows, Columns = columns };
        Errors.Check(ioctl(fd, TIOCSWINSZ, (nint)(&size)), "set window size");
    }

    public static WinSize? GetWindowSize(int fd)
    {
        WinSize size;
        return ioctl(fd, TIOCGWINSZ, (nint)(&size)) == 0 ? size : null;
    }

    /// <summary>
    /// Makes the slave this process's controlling terminal and its stdin, stdout and stderr. The
    /// process must lead a session that has no controlling terminal yet (setsid before).
    /// </summary>
    public static void BecomeTerminalSession(FileDescriptor slave)
    {
        Errors.Check(ioctl(slave.Fd, TIOCSCTTY, 0), "set controlling terminal");
        for (var fd = 0; fd <= 2; fd++)
            Errors.Check(dup3(slave.Fd, fd, 0), "dup2 terminal", fd.ToString());
    }
}
