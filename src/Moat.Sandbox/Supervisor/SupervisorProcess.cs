using System.Text;
using System.Text.Json;
using Moat.Interop;
using Moat.Sandbox.Policy;
using static Moat.Interop.Libc;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// `moat-runtime sandbox-supervise`: one per sandboxed container, from its create to its end. The main
/// thread takes the init's notification descriptor and answers its calls; a thread accepts exec
/// connections and starts one thread per exec'd process's descriptor (a notification is handled at
/// a time); one thread that holds the container's init with ptrace (PTRACE_SEIZE with
/// PTRACE_O_EXITKILL: the kernel kills the init, and so the pid namespace, when this process goes, however
/// it goes) and resumes it after each signal stop; a few pool threads for connects and FIFO opens, which
/// may wait. It exits when the container's processes are all gone.
/// </summary>
public sealed unsafe class SupervisorProcess
{
    readonly List<int> connections = [];
    int initConnection;
    int listener;
    Broker broker = null!;
    /// <summary>Set when the init is attached (before any call is answered), when its CPUs can be kept awake.</summary>
    KeepAwake? keepAwake;
    /// <summary>False when the container's annotation turned keep-awake off (SandboxTier.KeepAwakeAnnotation).</summary>
    bool mayKeepAwake = true;

    /// <summary>The nice value of the supervisor's threads until they answer with descriptors (then <see cref="ServingThread"/>).</summary>
    public const int SupervisorNice = -10;

    public static int Run(string[] args)
    {
        string? root = null, id = null, socket = null, reportFile = null, events = null, name = null, image = null;
        int control = -1, init = -1;
        var keepAwake = true;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--root": root = args[i + 1]; break;
                case "--id": id = args[i + 1]; break;
                case "--socket": socket = args[i + 1]; break;
                case "--control-fd": control = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--init-fd": init = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--report": reportFile = args[i + 1]; break;
                case "--events": events = args[i + 1]; break;
                case "--name": name = args[i + 1]; break;
                case "--image": image = args[i + 1]; break;
                case "--keep-awake": keepAwake = args[i + 1] != "false"; break;
            }
        }
        if (root is null || id is null || socket is null || control < 0 || init < 0)
        {
            WriteStderr("moat sandbox-supervise: runs only as part of a sandboxed create");
            return 2;
        }
        SetCloseOnExec(control, true);
        SetCloseOnExec(init, true);
        try
        {
            // Out of the caller's session and process group: an engine's signal to its group is not ours.
            setsid();
            umask(0);
            // Every brokered call is two wake-ups (the caller's thread, then a serving thread's); on a busy
            // machine each may wait behind batch work for a time slice. A higher weight makes the threads
            // (made after this, they inherit it) run when they are woken: the start of a container, its
            // hand-over and its first calls. A thread that answers with descriptors changes to
            // SCHED_BATCH at the first (ServingThread). (docs/sandbox.md, figures.)
            SetThreadNice(SupervisorNice);
            var policy = PolicyJson.Read(ReadToEnd(control), "policy");
            var report = reportFile is null && events is null ? null : new RefusalReport(reportFile, events, name, image);
            var log = new RefusalLog(Path.Combine(root, id), id, report);
            var process = new SupervisorProcess { broker = new Broker(policy, log), initConnection = init, mayKeepAwake = keepAwake };
            process.listener = ListenUnix(socket, SOCK_STREAM, 64).Detach();
            Reply(control, "ok");
            close(control);
            try
            {
                return process.Loop();
            }
            finally
            {
                log.Flush();
            }
        }
        catch (Exception e)
        {
            Reply(control, e is SyscallException or SandboxPolicyException or Runtime.RuntimeException ? e.Message : e.ToString());
            return 1;
        }
    }

    static void Reply(int fd, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        fixed (byte* p = bytes)
            write(fd, p, bytes.Length);
    }

    static byte[] ReadToEnd(int fd)
    {
        var bytes = new List<byte>();
        var buffer = stackalloc byte[4096];
        while (true)
        {
            var n = read(fd, buffer, 4096);
            if (n < 0 && Errors.LastErrno == Errors.EINTR)
                continue;
            if (n <= 0)
                break;
            bytes.AddRange(new ReadOnlySpan<byte>(buffer, (int)n));
        }
        return bytes.ToArray();
    }

    static void WriteStderr(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        fixed (byte* p = bytes)
            write(2, p, bytes.Length);
    }

    /// <summary>
    /// The init's hand-over first (or its end without one: the container never started); then this
    /// thread answers the init's notifications until no process uses its filter, while a second thread
    /// accepts exec connections, each served by a thread of its own; done when they are all done.
    /// </summary>
    int Loop()
    {
        new Thread(ServeExecConnections) { IsBackground = true, Name = "exec connections" }.Start();
        var initNotifyFd = -1;
        while (initNotifyFd < 0)
        {
            var entry = new PollFd { Fd = initConnection, Events = POLLIN };
            if (poll(&entry, 1, -1) < 0)
            {
                if (Errors.LastErrno == Errors.EINTR)
                    continue;
                throw new SyscallException("poll", Errors.LastErrno);
            }
            var (ended, notifyFd) = ReceiveFromConnection(initConnection, isInit: true);
            if (notifyFd >= 0)
                initNotifyFd = notifyFd;
            else if (ended)
                return 0;
        }
        lock (servers)
            serving++;
        Serve(initNotifyFd);
        lock (servers)
        {
            while (serving > 0)
                System.Threading.Monitor.Wait(servers);
        }
        return 0;
    }

    /// <summary>How many notification descriptors are still served (each by a thread); guarded by <see cref="servers"/>.</summary>
    int serving;
    readonly object servers = new();
    /// <summary>One notification is handled at a time: the broker's state is shared by every descriptor's thread.</summary>
    readonly object handling = new();

    /// <summary>
    /// Answers one notification descriptor's calls, one after the other, until no process uses its filter.
    /// RECV waits for the next call itself (no poll before it: one system call less per call), and a burst
    /// of calls is answered without waiting in between.
    /// </summary>
    void Serve(int notifyFd)
    {
        // A container confined to one CPU is served from that CPU: the caller cannot move to the other
        // when ADDFD wakes it (the kernel puts a woken thread on an idle CPU when it may), so a supervisor
        // left free would be woken across CPUs, twice a call; on this machine's halted CPUs a brokered
        // open took 71-76 µs that way, 14-16 µs served from its CPU (docs/sandbox.md, figures). A
        // container free to move gains nothing from a pinned supervisor (measured), so it is left to the
        // kernel. Failing is only slower.
        if (broker.ConfinedCpu >= 0)
            SetThreadAffinityTo(broker.ConfinedCpu);
        try
        {
            while (true)
            {
                if (SeccompReceive(notifyFd, out var notification))
                {
                    lock (handling)
                    {
                        broker.Handle(notifyFd, notification);
                        keepAwake?.Touch();
                    }
                    continue;
                }
                // ENOENT: the call vanished (its caller was killed), or no process uses the filter any more,
                // which the descriptor then shows as hung up.
                var entry = new PollFd { Fd = notifyFd, Events = POLLIN };
                if (poll(&entry, 1, 0) > 0 && (entry.Revents & POLLIN) == 0 && (entry.Revents & (POLLHUP | POLLERR)) != 0)
                    break;
            }
        }
        finally
        {
            ThreadIdentity.BeRoot();
            close(notifyFd);
            lock (servers)
            {
                serving--;
                System.Threading.Monitor.PulseAll(servers);
            }
        }
    }

    /// <summary>The exec socket and its connections: each exec'd process names its notification descriptor there.</summary>
    void ServeExecConnections()
    {
        var polls = new PollFd[16];
        while (true)
        {
            var count = 0;
            if (polls.Length < 1 + connections.Count)
                polls = new PollFd[1 + connections.Count + 16];
            polls[count++] = new PollFd { Fd = listener, Events = POLLIN };
            foreach (var c in connections)
                polls[count++] = new PollFd { Fd = c, Events = POLLIN };
            int ready;
            fixed (PollFd* p = polls)
                ready = poll(p, (ulong)count, -1);
            if (ready < 0)
            {
                if (Errors.LastErrno == Errors.EINTR)
                    continue;
                return;
            }
            for (var i = 0; i < count; i++)
            {
                var entry = polls[i];
                if (entry.Revents == 0)
                    continue;
                if (entry.Fd == listener)
                {
                    AcceptExec();
                    continue;
                }
                try
                {
                    var (_, notifyFd) = ReceiveFromConnection(entry.Fd, isInit: false);
                    if (notifyFd >= 0)
                    {
                        lock (servers)
                            serving++;
                        new Thread(() => Serve(notifyFd)) { IsBackground = true, Name = "exec notifications" }.Start();
                    }
                }
                catch (Exception e) when (e is SyscallException or JsonException)
                {
                    // One exec that could not hand over: it ends (end of file), the container goes on.
                    lock (pending)
                        pending.Remove(entry.Fd);
                    close(entry.Fd);
                    connections.Remove(entry.Fd);
                }
            }
        }
    }

    void AcceptExec()
    {
        using var listening = new FileDescriptor(listener);
        try
        {
            while (TryAccept(listening) is { } connection)
                connections.Add(connection.Detach());
        }
        finally
        {
            listening.SetHandleAsInvalid();
        }
    }

    /// <summary>What each listener connection has sent so far (the message may come in pieces); the init's and the exec thread's, so locked.</summary>
    readonly Dictionary<int, List<byte>> pending = [];

    /// <summary>
    /// A listener connection names the notification descriptor once ("seccompFd N\n" and the container
    /// process state JSON, Moat.Runtime's SeccompListener.LendNotifyFd), then waits: the supervisor takes
    /// descriptor N from the process (pidfd_getfd), holds the init, answers one byte and closes. Not
    /// SCM_RIGHTS: sendmsg is a notified call, and the listener that would answer it is the one in transit.
    /// </summary>
    (bool Ended, int NotifyFd) ReceiveFromConnection(int fd, bool isInit)
    {
        var buffer = new byte[8192];
        long n;
        fixed (byte* p = buffer)
            n = read(fd, p, buffer.Length);
        if (n < 0 && Errors.LastErrno is Errors.EAGAIN or Errors.EINTR)
            return (false, -1);
        var notifyFd = -1;
        if (n > 0)
        {
            List<byte>? bytes;
            lock (pending)
            {
                if (!pending.TryGetValue(fd, out bytes))
                    pending[fd] = bytes = [];
            }
            bytes.AddRange(buffer.AsSpan(0, (int)n));
            if (Parse(bytes) is not var (pid, targetFd))
                return (false, -1); // more to come
            notifyFd = TakeDescriptor(pid, targetFd);
            if (isInit)
            {
                // The container's init: hold it first (ptrace EXITKILL), so that no call of the workload is
                // answered before the container depends on this process being alive.
                broker.AttachTo(pid);
                HoldInit(pid);
                keepAwake = mayKeepAwake ? KeepAwake.For(broker.AllowedCpus) : null;
            }
            // The synchronous wake-up (Linux 6.6): the supervisor runs where the caller waits.
            SeccompSetSyncWakeUp(notifyFd);
            var ok = stackalloc byte[1];
            ok[0] = (byte)'k';
            write(fd, ok, 1);
        }
        lock (pending)
            pending.Remove(fd);
        close(fd);
        if (isInit)
            initConnection = -1;
        else
            connections.Remove(fd);
        return (true, notifyFd);
    }

    /// <summary>The descriptor's number and the state's "pid" (the host's view), once the whole message is there.</summary>
    static (int Pid, int Fd)? Parse(List<byte> bytes)
    {
        var all = bytes.ToArray();
        var newline = Array.IndexOf(all, (byte)'\n');
        if (newline < 0)
            return null;
        var header = Encoding.ASCII.GetString(all, 0, newline);
        if (!header.StartsWith("seccompFd ", StringComparison.Ordinal)
            || !int.TryParse(header.AsSpan(10), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fd))
            throw new SyscallException("read", Errors.EIO, $"the listener connection sent {RefusalLog.Describe(header)}, not a seccomp descriptor's number");
        try
        {
            using var document = JsonDocument.Parse(all.AsMemory(newline + 1));
            return (document.RootElement.GetProperty("pid").GetInt32(), fd);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Descriptor <paramref name="targetFd"/> of process <paramref name="pid"/>, checked to be a seccomp notification descriptor.</summary>
    static int TakeDescriptor(int pid, int targetFd)
    {
        using var pidfd = TryPidfdOpen(pid) ?? throw new SyscallException("pidfd_open", Errors.ESRCH, $"process {pid}");
        var fd = PidfdGetFd(pidfd.Fd, targetFd);
        if (fd < 0)
            throw new SyscallException("pidfd_getfd", -fd, $"descriptor {targetFd} of process {pid}");
        SetCloseOnExec(fd, true);
        var target = new byte[64];
        int length;
        fixed (byte* path = Encoding.ASCII.GetBytes($"/proc/self/fd/{fd}\0"))
        fixed (byte* t = target)
            length = BrokerReadlinkat(AT_FDCWD, path, t, target.Length);
        if (length < 0 || Encoding.ASCII.GetString(target, 0, length) != "anon_inode:seccomp notify")
        {
            close(fd);
            throw new SyscallException("pidfd_getfd", Errors.EINVAL, $"descriptor {targetFd} of process {pid} is not a seccomp notification descriptor");
        }
        return fd;
    }

    /// <summary>
    /// Seizes the container's init on a thread of its own (ptrace requests come from the tracer thread)
    /// and resumes it after every signal stop; returns once it is held.
    /// </summary>
    void HoldInit(int pid)
    {
        using var held = new ManualResetEventSlim();
        var error = 0;
        var thread = new Thread(() =>
        {
            if (Ptrace(PTRACE_SEIZE, pid, 0, (nint)PTRACE_O_EXITKILL) < 0)
                error = Errors.LastErrno;
            held.Set();
            if (error != 0)
                return;
            Trace(pid);
        }) { IsBackground = true, Name = "init holder" };
        thread.Start();
        held.Wait();
        if (error != 0)
            throw new SyscallException("ptrace PTRACE_SEIZE", error, $"container init {pid}");
    }

    void Trace(int pid)
    {
        while (true)
        {
            int status;
            var r = waitpid(pid, &status, __WALL);
            if (r < 0)
            {
                if (Errors.LastErrno == Errors.EINTR)
                    continue;
                break;
            }
            if ((status & 0xff) != 0x7f)
            {
                // Exited or killed: the real parent now gets its status too.
                break;
            }
            var signal = (status >> 8) & 0xff;
            var @event = status >> 16;
            if (@event == PTRACE_EVENT_STOP)
            {
                // Group-stop (SIGSTOP and friends): stay stopped, but let us see SIGCONT.
                if (signal is SIGSTOP or 20 or 21 or 22)
                    Ptrace(PTRACE_LISTEN, pid, 0, 0);
                else
                    Ptrace(PTRACE_CONT, pid, 0, 0);
            }
            else
            {
                // A signal-delivery stop: deliver it unchanged.
                Ptrace(PTRACE_CONT, pid, 0, signal);
            }
        }
    }
}
