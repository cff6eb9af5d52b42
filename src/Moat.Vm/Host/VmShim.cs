using System.Runtime.InteropServices;
using System.Text;
using Moat.Interop;
using Moat.Runtime;
using Moat.Runtime.State;
using Moat.Vm.Protocol;

namespace Moat.Vm.Host;

/// <summary>
/// The host side of one container's VM, a process of its own (<c>moat-runtime vm-shim DIR</c>) that
/// outlives the create that started it: it starts QEMU and is its parent, is the one client of the
/// agent's channel, relays the container's stdio (its own descriptors 0-2, the ones create was
/// given, or a pty's slave), and serves later runtime commands on its control socket. When the
/// container's process exits it records the status, stops QEMU and exits with that status, so a
/// foreground run simply waits for it. Descriptor 3 is the create's: "ok" or the error, then closed.
/// </summary>
public sealed class VmShim
{
    readonly VmFiles files;
    readonly VmLaunch launch;
    FrameChannel agent = null!;
    int qemuPid;
    uint nextId = 1;
    readonly Lock gate = new();
    readonly Dictionary<uint, PendingReply> pending = [];
    readonly Dictionary<uint, FrameChannel> execClients = [];

    sealed class PendingReply
    {
        public readonly ManualResetEventSlim Done = new();
        public Reply? Reply;
    }

    VmShim(VmFiles files, VmLaunch launch)
    {
        this.files = files;
        this.launch = launch;
    }

    public static int Run(string directory)
    {
        var files = new VmFiles(directory);
        var ready = 3;
        // QEMU, our child, must not hold the create's pipe: create waits for its end of file.
        Libc.SetCloseOnExec(ready, true);
        VmShim shim;
        try
        {
            shim = new VmShim(files, VmLaunch.FromJson(File.ReadAllBytes(files.Launch)));
            shim.Boot();
        }
        catch (Exception e)
        {
            Report(ready, "error: " + e.Message);
            return 125;
        }
        Report(ready, $"ok {shim.qemuPid}");
        return shim.Serve();
    }

    static void Report(int fd, string message)
    {
        try
        {
            Libc.WriteAll(fd, Encoding.UTF8.GetBytes(message), "create");
        }
        catch (SyscallException)
        {
        }
        Libc.close(fd);
    }

    void Boot()
    {
        var self = ProcessInfo.Read(Environment.ProcessId);
        VmFiles.WriteAtomically(files.ShimFile, Encoding.ASCII.GetBytes($"{Environment.ProcessId} {self?.StartTime ?? 0}\n"));
        var network = launch.NetworkNamespace is not null && launch.Network is { Length: > 0 } encoded ? NetworkRequest.Decode(encoded) : null;
        // The taps in the container's network namespace, moved above the numbers QEMU gets them as
        // (3, 4...) so that no descriptor is overwritten before it is passed.
        var taps = launch.NetworkNamespace is { } ns && network is { Interfaces.Count: > 0 }
            ? GuestNetworking.Connect(ns, network.Interfaces).Select(t =>
            {
                using (t)
                    return new FileDescriptor(Errors.Check(Libc.fcntl(t.Fd, 1030 /* F_DUPFD_CLOEXEC */, 100), "fcntl", "tap"));
            }).ToList()
            : [];
        try
        {
            using var devNull = Libc.Open("/dev/null", Libc.O_RDWR);
            using var log = Libc.Open(files.QemuLog, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC, Convert.ToUInt32("600", 8));
            var qemu = HostPath(launch.Qemu[0]);
            qemuPid = Libc.SpawnDetached(qemu, launch.Qemu, ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                [(devNull.Fd, 0), (log.Fd, 1), (log.Fd, 2), .. taps.Select((t, i) => (t.Fd, QemuCommandLine.FirstTapDescriptor + i))], newSession: false);
        }
        finally
        {
            // QEMU holds them now: the taps live as long as it does.
            taps.ForEach(t => t.Dispose());
        }
        VmFiles.WriteAtomically(files.QemuFile, Encoding.ASCII.GetBytes($"{qemuPid} {ProcessInfo.Read(qemuPid)?.StartTime ?? 0}\n"));
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(launch.BootTimeoutSeconds);
            var socket = ConnectAgent(deadline);
            agent = new FrameChannel(socket, "the guest agent's channel");
            // The agent says Hello once the guest is up; the wait is the boot.
            WaitReadable(socket.Fd, deadline, "the guest to boot");
            var hello = agent.Read() ?? throw new RuntimeException("the guest closed its channel while booting" + ConsoleTail());
            if (hello.Type != FrameType.Hello)
                throw new ProtocolException($"the guest's first frame is {hello.Type}, not Hello");
            var version = Hello.Decode(hello.Payload);
            if (version.Version != Frame.Version)
                throw new RuntimeException($"the guest's agent speaks protocol version {version.Version}, this moat {Frame.Version}");
            agent.Write(FrameType.Hello, 0, new Hello(Frame.Version, "moat-shim").Encode());
            new Thread(ReadAgent) { IsBackground = true, Name = "agent" }.Start();

            // The guest's NICs get the veths' names, addresses, routes and MTU before the container exists.
            if (network is not null)
                Check(Request(FrameType.Network, network.Encode()), "the guest's network");
            var size = launch.Terminal ? RelayedTerminal.SizeOf(0) : new WindowSize(0, 0);
            var create = new ProcessRequest(File.ReadAllBytes(launch.GuestConfig), launch.Terminal, size.Rows, size.Columns);
            Check(Request(FrameType.Create, create.Encode()), "create in the guest");
            // Before create returns and hands the master to a --console-socket: the caller's first
            // resize must find SIGWINCH handled and the terminal raw.
            if (launch.Terminal)
                terminal = RelayedTerminal.Take(0, size, s => agent.Write(FrameType.Resize, 0, s.Encode()));
            if (launch.StartImmediately)
                Check(Request(FrameType.Start, []), "start in the guest");
        }
        catch
        {
            StopQemu();
            throw;
        }
    }

    RelayedTerminal? terminal;

    static string HostPath(string program) =>
        program.Contains('/') ? program
        : new[] { "/usr/bin", "/usr/local/bin", "/bin" }.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists)
          ?? throw new RuntimeException($"{program} is not installed (Debian: apt-get install qemu-system-x86)");

    static void Check(Reply reply, string what)
    {
        if (!reply.Ok)
            throw new RuntimeException(reply.Message);
    }

    FileDescriptor ConnectAgent(DateTime deadline)
    {
        while (true)
        {
            CheckQemuAlive();
            if (File.Exists(files.AgentSocket))
            {
                try
                {
                    return Libc.ConnectUnixStream(files.AgentSocket);
                }
                catch (SyscallException)
                {
                }
            }
            if (DateTime.UtcNow > deadline)
                throw new RuntimeException("QEMU did not open the agent's socket in time" + QemuLogTail());
            Thread.Sleep(5);
        }
    }

    unsafe void WaitReadable(int fd, DateTime deadline, string what)
    {
        while (true)
        {
            var poll = new Libc.PollFd { Fd = fd, Events = 1 /* POLLIN */ };
            var n = Libc.poll(&poll, 1, 100);
            if (n > 0)
                return;
            CheckQemuAlive();
            if (DateTime.UtcNow > deadline)
                throw new RuntimeException($"timed out waiting for {what} ({launch.BootTimeoutSeconds}s)" + ConsoleTail());
        }
    }

    unsafe void CheckQemuAlive()
    {
        int status;
        if (Libc.waitpid(qemuPid, &status, 1 /* WNOHANG */) == qemuPid)
        {
            qemuPid = 0;
            throw new RuntimeException("QEMU exited while the guest was booting" + QemuLogTail() + ConsoleTail());
        }
    }

    string QemuLogTail() => Tail(files.QemuLog, "QEMU said");

    string ConsoleTail() => Tail(files.Console, "the guest's console ends with");

    static string Tail(string path, string label)
    {
        var text = File.Exists(path) ? File.ReadAllText(path).Trim() : "";
        if (text.Length == 0)
            return "";
        var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).TakeLast(3);
        return $" ({label}: {string.Join(" / ", lines)})";
    }

    /// <summary>Sends a request to the agent and waits for its reply.</summary>
    Reply Request(FrameType type, byte[] payload)
    {
        var pendingReply = new PendingReply();
        uint requestId;
        lock (gate)
        {
            requestId = nextId++;
            pending[requestId] = pendingReply;
        }
        agent.Write(type, requestId, payload);
        pendingReply.Done.Wait();
        return pendingReply.Reply!;
    }

    int exitStatus = -1;
    readonly ManualResetEventSlim exited = new();

    void ReadAgent()
    {
        try
        {
            while (agent.Read() is { } frame)
            {
                switch (frame.Type)
                {
                    case FrameType.Reply:
                        PendingReply? waiter;
                        lock (gate)
                        {
                            pending.Remove(frame.Stream, out waiter);
                        }
                        if (waiter is not null)
                        {
                            waiter.Reply = Reply.Decode(frame.Payload);
                            waiter.Done.Set();
                        }
                        else
                            PassToExec(frame);
                        break;
                    case FrameType.Stdout or FrameType.Stderr when frame.Stream == 0:
                        WriteQuietly(frame.Type == FrameType.Stdout || launch.Terminal ? 1 : 2, frame.Payload);
                        break;
                    case FrameType.Exit when frame.Stream == 0:
                        exitStatus = ExitStatus.Decode(frame.Payload).Status;
                        exited.Set();
                        return;
                    default:
                        PassToExec(frame);
                        break;
                }
            }
        }
        catch (Exception e) when (e is ProtocolException or SyscallException)
        {
        }
        finally
        {
            exited.Set();
            // Whoever waits for a reply learns that none comes.
            lock (gate)
            {
                foreach (var waiter in pending.Values)
                {
                    waiter.Reply ??= Reply.Failure("the virtual machine stopped");
                    waiter.Done.Set();
                }
                pending.Clear();
            }
        }
    }

    /// <summary>
    /// An exec's frame (its reply, output, exit) to its relay, from this one reader thread, so the
    /// relay gets them in the order the agent sent them: the reply first, the exit last. A frame
    /// passed from another thread (the reply from the thread serving the relay, as it once was)
    /// could overtake output, which the relay then took for noise before its reply.
    /// </summary>
    void PassToExec(Frame frame)
    {
        FrameChannel? client;
        lock (gate)
            client = execClients.GetValueOrDefault(frame.Stream);
        if (client is null)
            return;
        try
        {
            client.Write(frame);
        }
        catch (SyscallException)
        {
        }
        if (frame.Type == FrameType.Exit || frame.Type == FrameType.Reply && !Reply.Decode(frame.Payload).Ok)
            lock (gate)
                execClients.Remove(frame.Stream);
    }

    static void WriteQuietly(int fd, byte[] data)
    {
        try
        {
            Libc.WriteAll(fd, data, "container output");
        }
        catch (SyscallException)
        {
            // The reader went away (EPIPE): the container keeps running, as with a pipe it writes itself.
        }
    }

    int Serve()
    {
        Libc.Ignore(Libc.SIGPIPE);
        // A foreground run passes its signals to this process: they are the container's.
        var registrations = new List<PosixSignalRegistration>();
        foreach (var (signal, number) in new[] { (PosixSignal.SIGINT, Libc.SIGINT), (PosixSignal.SIGTERM, Libc.SIGTERM), (PosixSignal.SIGHUP, Libc.SIGHUP), (PosixSignal.SIGQUIT, Libc.SIGQUIT) })
            registrations.Add(PosixSignalRegistration.Create(signal, ctx =>
            {
                ctx.Cancel = true;
                ThreadPool.QueueUserWorkItem(_ => Request(FrameType.Signal, new SignalRequest(0, number, false).Encode()));
            }));
        new Thread(PumpStdin) { IsBackground = true, Name = "stdin" }.Start();
        var listener = Libc.ListenUnix(files.ControlSocket, 1 /* SOCK_STREAM */);
        new Thread(() => Accept(listener)) { IsBackground = true, Name = "control" }.Start();

        exited.Wait();
        var status = exitStatus >= 0 ? exitStatus : 137;
        VmFiles.WriteAtomically(files.ExitFile, Encoding.ASCII.GetBytes(exitStatus >= 0 ? $"{exitStatus}\n" : "vm-stopped\n"));
        // Exec clients still attached learn that their process is gone with the machine.
        lock (gate)
        {
            foreach (var (stream, client) in execClients)
                try
                {
                    client.Write(FrameType.Exit, stream, new ExitStatus(137).Encode());
                }
                catch (SyscallException)
                {
                }
            execClients.Clear();
        }
        StopQemu();
        registrations.ForEach(r => r.Dispose());
        terminal?.Dispose();
        return status;
    }

    void PumpStdin()
    {
        var buffer = new byte[32 * 1024];
        try
        {
            while (true)
            {
                var n = Libc.Read(0, buffer, "stdin");
                if (n == 0)
                    break;
                terminal?.PassSize();
                agent.Write(FrameType.Stdin, 0, buffer.AsSpan(0, n).ToArray());
            }
            if (!launch.Terminal)
                agent.Write(FrameType.StdinClose, 0);
        }
        catch (SyscallException)
        {
        }
    }

    unsafe void Accept(FileDescriptor listener)
    {
        while (true)
        {
            var poll = new Libc.PollFd { Fd = listener.Fd, Events = 1 };
            if (Libc.poll(&poll, 1, -1) <= 0)
                continue;
            if (Libc.TryAccept(listener) is not { } connection)
                continue;
            // Blocking reads from here on.
            Libc.fcntl(connection.Fd, 4 /* F_SETFL */, 0);
            new Thread(() => ServeClient(connection)) { IsBackground = true, Name = "client" }.Start();
        }
    }

    /// <summary>One runtime command: a request answered, or for exec, the exec's stream for as long as it runs.</summary>
    void ServeClient(FileDescriptor connection)
    {
        var client = new FrameChannel(connection, "a runtime command");
        uint? stream = null;
        try
        {
            while (client.Read() is { } frame)
            {
                switch (frame.Type)
                {
                    case FrameType.Exec:
                        uint id;
                        lock (gate)
                        {
                            id = nextId++;
                            execClients[id] = client;
                        }
                        stream = id;
                        // The reply comes back through ReadAgent, ahead of the exec's output.
                        agent.Write(FrameType.Exec, id, frame.Payload);
                        break;
                    case FrameType.Stdin or FrameType.StdinClose or FrameType.Resize when stream is { } s:
                        agent.Write(frame.Type, s, frame.Payload);
                        break;
                    case FrameType.Signal:
                        var signal = SignalRequest.Decode(frame.Payload);
                        var target = stream is { } own ? new SignalRequest(own, signal.Signal, signal.All) : signal;
                        client.Write(FrameType.Reply, frame.Stream, Request(FrameType.Signal, target.Encode()).Encode());
                        break;
                    case FrameType.Start or FrameType.State or FrameType.Pause or FrameType.Resume or FrameType.Poweroff:
                        client.Write(FrameType.Reply, frame.Stream, Request(frame.Type, frame.Payload).Encode());
                        break;
                    default:
                        client.Write(FrameType.Reply, frame.Stream, Reply.Failure($"the shim does not take {frame.Type} from a runtime command").Encode());
                        break;
                }
            }
        }
        catch (Exception e) when (e is ProtocolException or SyscallException)
        {
        }
        finally
        {
            if (stream is { } s)
                lock (gate)
                    execClients.Remove(s);
            connection.Dispose();
        }
    }

    unsafe void StopQemu()
    {
        if (qemuPid <= 0)
            return;
        Libc.kill(qemuPid, Libc.SIGKILL);
        int status;
        while (Libc.waitpid(qemuPid, &status, 0) < 0 && Errors.LastErrno == Errors.EINTR)
        {
        }
        qemuPid = 0;
    }
}
