using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Monitor;

/// <summary>
/// One life of the container, from the runtime's create to the init's exit: the init (pid, pidfd, start
/// time), and the monitor's ends of its stdio — pipes for stdout, stderr and (with -i) stdin, or the
/// pty master the runtime sent over the console socket. A restart makes a new one.
/// </summary>
public sealed unsafe class ContainerRun : IDisposable
{
    public required int InitPid { get; init; }
    public required ulong InitStartTime { get; init; }
    public required FileDescriptor Pidfd { get; init; }
    public required OomCounter Oom { get; init; }
    /// <summary>Read ends of the container's stdout and stderr (null with a terminal, or once at end of file).</summary>
    public FileDescriptor? Stdout { get; set; }
    public FileDescriptor? Stderr { get; set; }
    /// <summary>The pty master: all output comes from it and input goes to it.</summary>
    public FileDescriptor? Terminal { get; set; }
    /// <summary>Write end of the container's stdin pipe (with -i and no terminal).</summary>
    public FileDescriptor? StdinWriter { get; set; }
    /// <summary>Input not yet taken by the container.</summary>
    public Queue<byte[]> PendingInput { get; } = new();
    public int PendingInputOffset { get; set; }
    public bool CloseStdinWhenWritten { get; set; }

    /// <summary>Where input goes: the pty, or the stdin pipe.</summary>
    public FileDescriptor? InputTarget => Terminal ?? StdinWriter;

    /// <summary>
    /// Runs the runtime's create and returns the created container; on failure the runtime's sentence
    /// as a <see cref="MonitorException"/>, with what the runtime left deleted.
    /// </summary>
    public static ContainerRun Create(MonitorConfig config, RuntimeClient runtime, ContainerDirectory directory, MonitorLog log)
    {
        var pidFile = directory.File(ContainerFiles.PidFile);
        File.Delete(pidFile);
        var owned = new List<FileDescriptor>();
        FileDescriptor? consoleListener = null;
        FileDescriptor? stdoutRead = null, stderrRead = null, stdinWrite = null;
        try
        {
            using var devNull = Libc.Open("/dev/null", Libc.O_RDWR);
            int childIn, childOut, childErr;
            FileDescriptor? errors = null;
            var verb = new List<string> { "create", "--bundle", config.Bundle, "--pid-file", pidFile };
            if (config.Terminal)
            {
                // The runtime connects here and sends the pty master (SCM_RIGHTS), as runc and crun do.
                File.Delete(directory.File(ContainerFiles.ConsoleSocket));
                consoleListener = Libc.ListenUnix(directory.SocketPath(ContainerFiles.ConsoleSocket), Libc.SOCK_STREAM);
                verb.AddRange(["--console-socket", directory.SocketPath(ContainerFiles.ConsoleSocket)]);
                errors = new FileDescriptor(Errors.Check(Libc.memfd_create("moat-monitor-create", Libc.MFD_CLOEXEC), "memfd_create"));
                owned.Add(errors);
                (childIn, childOut, childErr) = (devNull.Fd, devNull.Fd, errors.Fd);
            }
            else
            {
                var (outRead, outWrite) = Pipe();
                var (errRead, errWrite) = Pipe();
                owned.AddRange([outWrite, errWrite]);
                stdoutRead = outRead;
                stderrRead = errRead;
                childOut = outWrite.Fd;
                childErr = errWrite.Fd;
                childIn = devNull.Fd;
                if (config.Stdin)
                {
                    var (inRead, inWrite) = Pipe();
                    owned.Add(inRead);
                    stdinWrite = inWrite;
                    childIn = inRead.Fd;
                }
            }
            verb.Add(config.Id);
            var pid = runtime.Spawn(verb, childIn, childOut, childErr);
            var code = RuntimeClient.WaitWithTimeout(pid, TimeSpan.FromMinutes(2));
            // The monitor keeps only its own ends: the container's output reaches end of file when the container's last holder closes it.
            foreach (var fd in owned)
                if (fd != errors)
                    fd.Dispose();
            if (code != 0)
            {
                var said = errors is not null ? ReadMemfd(errors) : Drain(stderrRead!) + Drain(stdoutRead!);
                var sentence = runtime.ErrorSentence("create", code, said);
                var (deleteCode, deleteSaid) = runtime.ForceDelete();
                if (deleteCode != 0 && !deleteSaid.Contains("not exist", StringComparison.OrdinalIgnoreCase)
                    && !deleteSaid.Contains("not found", StringComparison.OrdinalIgnoreCase))
                    log.Write($"after the failed create: runtime delete --force: {runtime.ErrorSentence("delete", deleteCode, deleteSaid)}");
                throw new MonitorException(sentence);
            }
            var pidText = File.ReadAllText(pidFile).Trim();
            if (!int.TryParse(pidText, out var initPid) || initPid <= 0)
                throw new MonitorException($"the runtime wrote no valid pid to {pidFile}: \"{pidText}\"");
            var pidfd = Libc.TryPidfdOpen(initPid) ?? throw new MonitorException($"the container's init (pid {initPid}) is gone already");
            var run = new ContainerRun
            {
                InitPid = initPid,
                InitStartTime = ProcessInfo.StartTime(initPid),
                Pidfd = pidfd,
                Oom = OomCounter.ForProcess(initPid),
                Stdout = stdoutRead,
                Stderr = stderrRead,
                StdinWriter = stdinWrite,
            };
            if (consoleListener is not null)
            {
                // create has returned: the runtime's connection is queued on the listener already.
                using var connection = Libc.TryAccept(consoleListener)
                    ?? throw new MonitorException("the runtime did not send the container's terminal to the console socket");
                Libc.SetCloseOnExec(connection.Fd, true);
                SetBlocking(connection.Fd, true);
                run.Terminal = Libc.ReceiveDescriptor(connection.Fd, "console socket");
                SetBlocking(run.Terminal.Fd, false);
            }
            if (run.Stdout is not null)
                SetBlocking(run.Stdout.Fd, false);
            if (run.Stderr is not null)
                SetBlocking(run.Stderr.Fd, false);
            if (run.StdinWriter is not null)
                SetBlocking(run.StdinWriter.Fd, false);
            return run;
        }
        catch
        {
            stdoutRead?.Dispose();
            stderrRead?.Dispose();
            stdinWrite?.Dispose();
            foreach (var fd in owned)
                fd.Dispose();
            throw;
        }
        finally
        {
            if (consoleListener is not null)
            {
                consoleListener.Dispose();
                File.Delete(directory.File(ContainerFiles.ConsoleSocket));
            }
        }
    }

    static (FileDescriptor Read, FileDescriptor Write) Pipe()
    {
        var fds = stackalloc int[2];
        Errors.Check(Libc.pipe2(fds, Libc.O_CLOEXEC), "pipe2");
        return (new FileDescriptor(fds[0]), new FileDescriptor(fds[1]));
    }

    public static void SetBlocking(int fd, bool blocking)
    {
        var flags = Errors.Check(Libc.fcntl(fd, Libc.F_GETFL, 0), "fcntl F_GETFL");
        Errors.Check(Libc.fcntl(fd, Libc.F_SETFL, blocking ? flags & ~Libc.O_NONBLOCK : flags | Libc.O_NONBLOCK), "fcntl F_SETFL");
    }

    /// <summary>What a pipe holds now (without waiting for more).</summary>
    static string Drain(FileDescriptor fd)
    {
        SetBlocking(fd.Fd, false);
        var bytes = new List<byte>();
        var buffer = stackalloc byte[4096];
        while (bytes.Count < 64 * 1024)
        {
            var n = Libc.read(fd.Fd, buffer, 4096);
            if (n <= 0)
                break;
            bytes.AddRange(new ReadOnlySpan<byte>(buffer, (int)n));
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }

    static string ReadMemfd(FileDescriptor fd)
    {
        var bytes = new List<byte>();
        var buffer = stackalloc byte[4096];
        long offset = 0;
        while (bytes.Count < 64 * 1024)
        {
            var n = Libc.pread(fd.Fd, buffer, 4096, offset);
            if (n <= 0)
                break;
            bytes.AddRange(new ReadOnlySpan<byte>(buffer, (int)n));
            offset += n;
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }

    public void Dispose()
    {
        Pidfd.Dispose();
        Stdout?.Dispose();
        Stderr?.Dispose();
        Terminal?.Dispose();
        StdinWriter?.Dispose();
    }
}
