using Moat.Interop;
using Moat.Oci.Json;
using Moat.Runtime;
using Moat.Runtime.Api;
using Moat.Runtime.Create;
using Moat.Runtime.Exec;
using Moat.Vm.Protocol;

namespace Moat.Vm.Guest;

/// <summary>
/// Moat's agent: PID 1 of the guest (<c>moat-runtime vm-agent</c>, /init of the initramfs Moat builds).
/// It prepares the guest (filesystems, the few kernel modules, cgroup v2), says Hello on the
/// virtio-serial port, and then serves the host's requests by running the container with the
/// container tier of the same runtime library: namespaces, cgroup v2, capabilities, seccomp and
/// no_new_privs inside the guest, so an escape from the container still meets a guest kernel, and a
/// guest-kernel escape still meets QEMU.
/// </summary>
public sealed class GuestAgent
{
    /// <summary>The virtio-serial port's name; the host's QEMU command line gives it.</summary>
    public const string PortName = "run.moat.agent";
    /// <summary>Where the host's shares (9p mount tags) are mounted: rootfs, and m0, m1... for bind sources.</summary>
    public const string SharesDirectory = "/run/shares";
    const string StateRoot = "/run/moat", Bundle = "/run/bundle";

    readonly FrameChannel host;
    readonly ContainerRuntime runtime;
    readonly Lock stdioGate = new();
    readonly Dictionary<uint, GuestProcess> processes = [];
    readonly int console;
    string? containerId;

    GuestAgent(FrameChannel host, int console)
    {
        this.host = host;
        this.console = console;
        runtime = new ContainerRuntime(new RuntimeSettings(StateRoot) { Warn = m => Log($"warning: {m}") });
    }

    public static int Run()
    {
        // The kernel opened /dev/console as 0, 1 and 2; keep a copy for messages, the container's
        // stdio takes 0-2 while it is made.
        var console = Libc.fcntl(1, 1030 /* F_DUPFD_CLOEXEC */, 3);
        try
        {
            GuestSetup.Prepare();
            var port = GuestSetup.OpenPort(PortName);
            var agent = new GuestAgent(new FrameChannel(port, "the host channel"), console);
            agent.Serve();
        }
        catch (Exception e)
        {
            WriteLine(console, $"moat-agent: {e.Message}");
        }
        // PID 1 must not exit (the kernel panics): power off instead.
        GuestSetup.PowerOff();
        return 1;
    }

    static void WriteLine(int fd, string line)
    {
        try
        {
            Libc.WriteAll(fd, System.Text.Encoding.UTF8.GetBytes(line + "\n"), "console");
        }
        catch (SyscallException)
        {
        }
    }

    void Log(string line) => WriteLine(console, "moat-agent: " + line);

    void Serve()
    {
        host.Write(FrameType.Hello, 0, new Hello(Frame.Version, "moat-agent").Encode());
        while (host.Read() is { } frame)
        {
            try
            {
                Handle(frame);
            }
            catch (Exception e) when (e is RuntimeException or SyscallException or ProtocolException or IOException or System.Text.Json.JsonException)
            {
                if (IsRequest(frame.Type))
                    host.Write(FrameType.Reply, frame.Stream, Reply.Failure(e.Message).Encode());
                else
                    Log(e.Message);
            }
        }
        Log("the host closed the channel");
    }

    static bool IsRequest(FrameType type) => type is FrameType.Create or FrameType.Start or FrameType.Exec or FrameType.Signal
        or FrameType.State or FrameType.Pause or FrameType.Resume or FrameType.Poweroff or FrameType.Network;

    void Ok(Frame request, int value = 0) => host.Write(FrameType.Reply, request.Stream, Reply.Success(value).Encode());

    void Handle(Frame frame)
    {
        switch (frame.Type)
        {
            case FrameType.Hello:
                var hello = Hello.Decode(frame.Payload);
                if (hello.Version != Frame.Version)
                    throw new ProtocolException($"the host speaks protocol version {hello.Version}, this agent {Frame.Version}");
                break;
            case FrameType.Network:
                if (containerId is not null)
                    throw new RuntimeException("the guest's network is set before its container is created");
                GuestInterfaces.Configure(NetworkRequest.Decode(frame.Payload));
                Ok(frame);
                break;
            case FrameType.Create:
                Create(frame);
                break;
            case FrameType.Start:
                runtime.Start(Id);
                Ok(frame);
                break;
            case FrameType.Exec:
                Exec(frame);
                break;
            case FrameType.Stdin:
                ProcessOf(frame.Stream)?.WriteInput(frame.Payload);
                break;
            case FrameType.StdinClose:
                ProcessOf(frame.Stream)?.CloseInput();
                break;
            case FrameType.Resize:
                ProcessOf(frame.Stream)?.Resize(WindowSize.Decode(frame.Payload));
                break;
            case FrameType.Signal:
                var signal = SignalRequest.Decode(frame.Payload);
                if (signal.Target == 0)
                    runtime.Kill(Id, signal.Signal, signal.All);
                else
                    (ProcessOf(signal.Target) ?? throw new RuntimeException($"no process {signal.Target} in the guest")).Signal(signal.Signal);
                Ok(frame);
                break;
            case FrameType.State:
                var view = runtime.State(Id);
                host.Write(FrameType.Reply, frame.Stream, new Reply(true, view.Status.ToString().ToLowerInvariant(), view.Pid).Encode());
                break;
            case FrameType.Pause:
                runtime.Pause(Id);
                Ok(frame);
                break;
            case FrameType.Resume:
                runtime.Resume(Id);
                Ok(frame);
                break;
            case FrameType.Poweroff:
                Ok(frame);
                GuestSetup.PowerOff();
                break;
            default:
                throw new ProtocolException($"unexpected frame {frame.Type} from the host");
        }
    }

    string Id => containerId ?? throw new RuntimeException("no container was created in this guest");

    GuestProcess? ProcessOf(uint stream)
    {
        lock (processes)
            return processes.GetValueOrDefault(stream);
    }

    void Create(Frame frame)
    {
        if (containerId is not null)
            throw new RuntimeException("this guest already runs a container");
        var request = ProcessRequest.Decode(frame.Payload);
        var spec = SpecJson.ReadSpec(request.Json);
        GuestSetup.MountShares();
        Directory.CreateDirectory(Bundle);
        File.WriteAllBytes(Path.Combine(Bundle, "config.json"), request.Json);
        var id = spec.Annotations?.GetValueOrDefault(VmNames.IdAnnotation) ?? "container";
        var started = WithStdio(request.Terminal, () =>
        {
            var created = runtime.Create(new CreateOptions(id, Bundle, Foreground: request.Terminal));
            return (created.State.Pid, created.Pidfd, created.Console);
        });
        containerId = id;
        var process = Track(0, started, request);
        Ok(frame, started.Pid);
        process.Begin();
    }

    void Exec(Frame frame)
    {
        var request = ProcessRequest.Decode(frame.Payload);
        var process = SpecJson.ReadProcess(request.Json);
        process.Terminal = request.Terminal;
        var started = WithStdio(request.Terminal, () =>
        {
            var s = runtime.Exec(new ExecOptions(Id, process, Foreground: request.Terminal));
            return (s.Pid, s.Pidfd, s.Console);
        });
        var tracked = Track(frame.Stream, started, request);
        // The reply goes out before the process's first output and its exit (Begin starts passing
        // those): the host learns of the exec's stream before anything arrives on it.
        Ok(frame, started.Pid);
        tracked.Begin();
    }

    sealed record Spawned(int Pid, FileDescriptor Pidfd, FileDescriptor? Console, FileDescriptor? Stdin, FileDescriptor? Stdout, FileDescriptor? Stderr);

    /// <summary>
    /// Runs a create or exec with pipes as descriptors 0-2 (the container tier hands its process the
    /// caller's stdio), then gives the agent its console back. With a terminal the process gets the
    /// pty the container tier opens, and 0-2 do not matter.
    /// </summary>
    Spawned WithStdio(bool terminal, Func<(int Pid, FileDescriptor Pidfd, FileDescriptor? Console)> spawn)
    {
        lock (stdioGate)
        {
            if (terminal)
            {
                var t = spawn();
                return new Spawned(t.Pid, t.Pidfd, t.Console, null, null, null);
            }
            var stdin = Libc.Pipe();
            var stdout = Libc.Pipe();
            var stderr = Libc.Pipe();
            try
            {
                Errors.Check(Libc.dup3(stdin.Read.Fd, 0, 0), "dup2 stdin");
                Errors.Check(Libc.dup3(stdout.Write.Fd, 1, 0), "dup2 stdout");
                Errors.Check(Libc.dup3(stderr.Write.Fd, 2, 0), "dup2 stderr");
                var s = spawn();
                return new Spawned(s.Pid, s.Pidfd, null, stdin.Write, stdout.Read, stderr.Read);
            }
            catch
            {
                stdin.Write.Dispose();
                stdout.Read.Dispose();
                stderr.Read.Dispose();
                throw;
            }
            finally
            {
                for (var fd = 0; fd <= 2; fd++)
                    Libc.dup3(console, fd, 0);
                stdin.Read.Dispose();
                stdout.Write.Dispose();
                stderr.Write.Dispose();
            }
        }
    }

    /// <summary>
    /// Registers the process under its stream, so that input and resizes find it; its output waits
    /// in its pipes (or pty) until the caller has replied and calls <see cref="GuestProcess.Begin"/>.
    /// </summary>
    GuestProcess Track(uint stream, Spawned spawned, ProcessRequest request)
    {
        var process = new GuestProcess(stream, host, spawned.Pidfd, spawned.Console, spawned.Stdin, spawned.Stdout, spawned.Stderr, () =>
        {
            lock (processes)
                processes.Remove(stream);
        });
        if (spawned.Console is { } pty && request.Rows > 0)
            Libc.SetWindowSize(pty.Fd, request.Rows, request.Columns);
        lock (processes)
            processes[stream] = process;
        return process;
    }
}
