using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Moat.Interop;

namespace Moat.Tests.Vm;

/// <summary>
/// The caller's end of <c>--console-socket</c>, as an engine holds it: a listening unix socket that
/// receives a pty master (with Moat's own <see cref="Libc.ReceiveDescriptor"/>, the call the
/// monitor uses), and a reader that keeps everything the master yields until the other side is gone.
/// </summary>
sealed class ConsoleSocketPeer : IDisposable
{
    readonly Socket listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public string Path { get; }

    public ConsoleSocketPeer(string path)
    {
        Path = path;
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
    }

    /// <summary>The master the runtime command sends; a command that exits without sending one fails the test with its stderr.</summary>
    public Terminal Receive(Process command, string commandErrors)
    {
        var accept = listener.AcceptAsync();
        var exited = command.WaitForExitAsync();
        var deadline = Task.Delay(TimeSpan.FromMinutes(5));
        var first = Task.WhenAny(accept, exited, deadline).Result;
        if (first != accept)
            throw new Xunit.Sdk.XunitException(first == exited
                ? $"the command exited ({command.ExitCode}) without sending a terminal: {File.ReadAllText(commandErrors)}"
                : "no terminal came to the console socket within 5 minutes");
        using var connection = accept.Result;
        return new Terminal(Libc.ReceiveDescriptor((int)connection.Handle, "console socket"));
    }

    public void Dispose()
    {
        listener.Dispose();
        File.Delete(Path);
    }
}

/// <summary>A pty master the test drives: input written, output kept as it comes (a thread reads until EIO).</summary>
sealed class Terminal : IDisposable
{
    readonly FileDescriptor master;
    readonly StringBuilder output = new();
    readonly Thread reader;
    bool ended;

    public Terminal(FileDescriptor master)
    {
        this.master = master;
        reader = new Thread(Read) { IsBackground = true, Name = "terminal" };
        reader.Start();
    }

    public Libc.WinSize? Size => Libc.GetWindowSize(master.Fd);

    public void Resize(ushort rows, ushort columns) => Libc.SetWindowSize(master.Fd, rows, columns);

    public void Type(string text) => Libc.WriteAll(master.Fd, Encoding.UTF8.GetBytes(text), "terminal");

    void Read()
    {
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = Libc.Read(master.Fd, buffer, "terminal")) > 0)
                lock (output)
                {
                    output.Append(Encoding.UTF8.GetString(buffer, 0, n));
                    Monitor.PulseAll(output);
                }
        }
        catch (SyscallException)
        {
            // EIO: every holder of the slave closed it.
        }
        lock (output)
        {
            ended = true;
            Monitor.PulseAll(output);
        }
    }

    /// <summary>Waits until the output holds <paramref name="text"/> (the deadline only bounds a failure).</summary>
    public void WaitFor(string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        lock (output)
            while (!output.ToString().Contains(text))
            {
                var left = deadline - DateTime.UtcNow;
                if (ended || left <= TimeSpan.Zero)
                    throw new Xunit.Sdk.XunitException($"the terminal {(ended ? "closed" : "never showed")} \"{text}\"; it showed: {output}");
                Monitor.Wait(output, left);
            }
    }

    /// <summary>Waits for the slave's last holder to close it; the output up to then.</summary>
    public string WaitForEnd()
    {
        if (!reader.Join(TimeSpan.FromMinutes(2)))
            throw new Xunit.Sdk.XunitException($"the terminal stayed open; it showed: {Text}");
        return Text;
    }

    public string Text
    {
        get
        {
            lock (output)
                return output.ToString();
        }
    }

    public void Dispose() => master.Dispose();
}
