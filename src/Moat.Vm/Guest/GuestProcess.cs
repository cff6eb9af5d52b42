using Moat.Interop;
using Moat.Vm.Protocol;

namespace Moat.Vm.Guest;

/// <summary>
/// One process in the guest (the container's, or an exec's) and its stream to the host: its output
/// (pipes, or the pty master) goes out as Stdout/Stderr frames, Stdin frames go in, and its exit
/// status goes out as the stream's last frame, after all the output it wrote before exiting.
/// </summary>
sealed class GuestProcess(uint stream, FrameChannel host, FileDescriptor pidfd, FileDescriptor? pty,
    FileDescriptor? stdin, FileDescriptor? stdout, FileDescriptor? stderr, Action ended)
{
    /// <summary>
    /// How long the exit waits for the end of file once the output the process wrote is passed: a
    /// process it left behind (a daemon holding the pipe or the terminal) keeps it open, and must
    /// not hold the status back.
    /// </summary>
    static readonly TimeSpan LeftBehindGrace = TimeSpan.FromSeconds(2);

    readonly Lock inputGate = new();
    // The output descriptors and the pidfd are not disposed when the process exits: a pump can
    // still be reading (a process left behind holds the pipe), and a number closed under it could
    // be reused by the next exec's pipe. Each owner is referenced by the thread that uses it, so
    // its finalizer closes it only once nothing can use it any more.
    FileDescriptor? input = pty ?? stdin;

    /// <summary>Starts passing output and waiting for the exit; called once the host was told of the stream.</summary>
    public void Begin()
    {
        var pumps = new List<OutputPump>();
        if (pty is not null)
            pumps.Add(new OutputPump(pty, FrameType.Stdout, stream, host));
        if (stdout is not null)
            pumps.Add(new OutputPump(stdout, FrameType.Stdout, stream, host));
        if (stderr is not null)
            pumps.Add(new OutputPump(stderr, FrameType.Stderr, stream, host));
        new Thread(() =>
        {
            var status = Libc.WaitExitCode(pidfd);
            foreach (var pump in pumps)
                pump.Finish();
            ended();
            host.Write(FrameType.Exit, stream, new ExitStatus(status).Encode());
            CloseInput();
        }) { IsBackground = true, Name = $"wait {stream}" }.Start();
    }

    /// <summary>One output descriptor passed to the host as frames, until its end of file (or EIO, a pty's last slave closed).</summary>
    sealed class OutputPump
    {
        /// <summary>FIONREAD: how many bytes wait to be read (pipes and ptys alike).</summary>
        const ulong QueuedBytesRequest = 0x541B;

        readonly FileDescriptor source;
        readonly Thread thread;
        readonly object gate = new();
        long taken, passed;
        bool done;

        public OutputPump(FileDescriptor source, FrameType type, uint stream, FrameChannel host)
        {
            this.source = source;
            thread = new Thread(() => Pump(type, stream, host)) { IsBackground = true, Name = $"output {stream}" };
            thread.Start();
        }

        unsafe void Pump(FrameType type, uint stream, FrameChannel host)
        {
            var buffer = new byte[32 * 1024];
            while (true)
            {
                // Wait outside the gate; the read under it then does not block.
                var poll = new Libc.PollFd { Fd = source.Fd, Events = 1 /* POLLIN */ };
                if (Libc.poll(&poll, 1, -1) < 0 && Errors.LastErrno == Errors.EINTR)
                    continue;
                int n;
                lock (gate)
                {
                    try
                    {
                        n = Libc.Read(source.Fd, buffer, "process output");
                    }
                    catch (SyscallException)
                    {
                        n = 0; // EIO: the pty's last slave closed
                    }
                    taken += n;
                }
                if (n > 0)
                    try
                    {
                        host.Write(type, stream, buffer.AsSpan(0, n).ToArray());
                    }
                    catch (SyscallException)
                    {
                        n = 0; // the host is gone: nobody to pass output to
                    }
                lock (gate)
                {
                    passed += n;
                    done = n == 0;
                    Monitor.PulseAll(gate);
                }
                if (n == 0)
                    return;
            }
        }

        /// <summary>
        /// Once the process exited, everything it wrote is either queued in the source or was
        /// taken by a read: waits until that much has been passed to the host (however long it
        /// takes: never cut short), then at most <see cref="LeftBehindGrace"/> for the end of file.
        /// Bytes a left-behind process writes later do not hold the exit back.
        /// </summary>
        public unsafe void Finish()
        {
            lock (gate)
            {
                int queued = 0;
                Libc.ioctl(source.Fd, QueuedBytesRequest, (nint)(&queued));
                var target = taken + queued;
                while (!done && passed < target)
                    Monitor.Wait(gate);
                if (done)
                    return;
            }
            thread.Join(LeftBehindGrace);
        }
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
