using System.Text;

namespace Moat.Interop;

/// <summary>
/// A TextWriter on stdout or stderr through write(2), for what System.CommandLine prints (help,
/// usage errors). Not System.Console, whose first use on a terminal switches it to keypad mode. Lines are written whole.
/// </summary>
public sealed class DescriptorWriter(int fd) : TextWriter
{
    readonly StringBuilder pending = new();

    public override Encoding Encoding => Encoding.UTF8;

    /// <summary>
    /// One line on stderr with a plain write(2), for errors said outside a command's writer. A closed or
    /// broken stderr is ignored: there is nowhere else to say it.
    /// </summary>
    public static void ErrorLine(string line)
    {
        try
        {
            Libc.WriteAll(2, Encoding.UTF8.GetBytes(line + "\n"), "stderr");
        }
        catch (SyscallException)
        {
        }
    }

    /// <summary>The descriptor written to (1 or 2), so a caller can ask isatty whether colour makes sense.</summary>
    public int Descriptor => fd;

    public override void Write(char value)
    {
        pending.Append(value);
        if (value == '\n')
            Flush();
    }

    public override void Write(string? value)
    {
        pending.Append(value);
        if (value?.Contains('\n') == true)
            Flush();
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Flush()
    {
        if (pending.Length == 0)
            return;
        var bytes = Encoding.UTF8.GetBytes(pending.ToString());
        pending.Clear();
        try
        {
            Libc.WriteAll(fd, bytes, fd == 1 ? "stdout" : "stderr");
        }
        catch (SyscallException)
        {
            // A closed pipe: nothing more can be said there.
        }
    }

    protected override void Dispose(bool disposing)
    {
        Flush();
        base.Dispose(disposing);
    }
}
