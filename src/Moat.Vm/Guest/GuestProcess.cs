using Moat.Interop;
using Moat.Vm.Protocol;

namespace Moat.Vm.Guest;

/// <summary>
/// One process in the guest (the container's, or an exec's) and its stream to the host: its output
/// (pipes, or the pty master) goes out as Stdout/Stderr frames, Stdin frames go in, and its exit
/// status goes out as the stream's last frame, after the output it wrote before exiting.
/// </summary>
sealed class GuestProcess(uint stream, FrameChannel host, FileDescriptor pidfd, FileDescriptor? pty,
    FileDescriptor? stdin, FileDescriptor? stdout, FileDescriptor? stderr)
{
    readonly Lock inputGate = new();
    FileDescriptor? input = pty ?? stdin;

    public void Begin(Action ended)
    {
        var pumps = new List<Thread>();
        if (pty is not null)
            pumps.Add(Pump(pty, FrameType.Stdout));
        if (stdout is not null)
            pumps.Add(Pump(stdout, FrameType.Stdout));
        if (stderr is not null)
            pumps.Add(Pump(stderr, FrameType.Stderr));
        new Thread(() =>
        {
            var status = Libc.WaitExitCode(pidfd);
            // Output written before the exit comes first. A process the exit left behind (a daemon
            // holding the pipe) must not hold the status back for long.
            foreach (var pump in pumps)
                pump.Join(TimeSpan.FromSeconds(2));
            ended();
            host.Write(FrameType.Exit, stream, new ExitStatus(status).Encode());
            CloseInput();
        }) { IsBackground = true, Name = $"wait {stream}" }.Start();
    }

    Thread Pump(FileDescriptor source, FrameType type)
    {
        var thread = new Thread(() =>
        {
            var buffer = new byte[32 * 1024];
            while (true)
            {
                int n;
                try
                {
                    n = Libc.Read(source.Fd, buffer, "process output");
                }
                catch (SyscallException)
                {
                    break; // EIO: the pty's last slave closed
                }
                if (n == 0)
                    break;
                host.Write(type, stream, buffer.AsSpan(0, n).ToArray());
            }
        }) { IsBackground = true, Name = $"output {stream}" };
        thread.Start();
        return thread;
    }

    public void WriteInput(byte[] data)
    {
        lock (inputGate)
        {
            if (input is null)
                return;
            try
            {
                Libc.WriteAll(input.Fd, data, "process input");
            }
            catch (SyscallException)
            {
                // EPIPE: the process closed its stdin; the rest is dropped, as a pipe would.
            }
        }
    }

    /// <summary>End of input: the pipe closes; a terminal gets its end-of-file character instead.</summary>
    public void CloseInput()
    {
        lock (inputGate)
        {
            if (input is null)
                return;
            if (input == pty)
            {
                WriteEof();
                return;
            }
            input.Dispose();
            input = null;
        }
    }

    void WriteEof()
    {
        try
        {
            Libc.WriteAll(pty!.Fd, [4], "terminal");
        }
        catch (SyscallException)
        {
        }
    }

    public void Resize(WindowSize size)
    {
        if (pty is not null)
            Libc.SetWindowSize(pty.Fd, size.Rows, size.Columns);
    }

    public void Signal(int signal) => Libc.PidfdSendSignal(pidfd, signal);
}
