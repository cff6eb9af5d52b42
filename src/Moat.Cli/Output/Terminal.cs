using System.Text;
using Moat.Interop;

namespace Moat.Cli.Output;

/// <summary>Reading from the user's terminal without System.Console (which would leave the terminal in keypad mode).</summary>
public static unsafe class Terminal
{
    const uint Echo = 0x8; // ECHO in c_lflag

    /// <summary>Asks on stderr and reads one line from stdin with echo off (a password).</summary>
    public static string ReadSecret(string prompt)
    {
        Libc.WriteAll(2, Encoding.UTF8.GetBytes(prompt), "stderr");
        Libc.Termios saved;
        var haveTerminal = Libc.tcgetattr(0, &saved) == 0;
        if (haveTerminal)
        {
            var quiet = saved;
            quiet.LocalFlags &= ~Echo;
            Libc.tcsetattr(0, Libc.TCSANOW, &quiet);
        }
        try
        {
            return ReadLine(0);
        }
        finally
        {
            if (haveTerminal)
            {
                Libc.tcsetattr(0, Libc.TCSANOW, &saved);
                Libc.WriteAll(2, "\n"u8.ToArray(), "stderr");
            }
        }
    }

    /// <summary>One line from a descriptor, without its newline; the whole input when there is no newline.</summary>
    public static string ReadLine(int fd)
    {
        var bytes = new List<byte>();
        Span<byte> one = stackalloc byte[1];
        while (Libc.Read(fd, one, "stdin") == 1 && one[0] != (byte)'\n')
            bytes.Add(one[0]);
        return Encoding.UTF8.GetString(bytes.ToArray()).TrimEnd('\r');
    }
}
