using System.Text;
using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Monitor;

/// <summary>A runtime verb that failed; its message is the sentence the runtime said (or what happened to it).</summary>
public sealed class MonitorException(string message) : Exception(message);

/// <summary>
/// Runs the OCI runtime's verbs (`&lt;runtime&gt; &lt;runtimeArgs&gt; VERB ...`) with runc's command line. Every
/// child starts with default signal actions (the monitor ignores SIGPIPE and SIGHUP; a container must
/// not inherit that) and the monitor's environment. start and delete --force of Moat's own runtime are
/// called in this process instead (<see cref="InProcessRuntime"/>), with the same answers.
/// </summary>
public sealed class RuntimeClient(MonitorConfig config, InProcessRuntime? inProcess = null)
{
    static readonly TimeSpan VerbTimeout = TimeSpan.FromMinutes(2);
    readonly string[] environment = EnvironmentList();

    public string Id => config.Id;

    /// <summary>Whether start and delete --force run in this process.</summary>
    public bool InProcess => inProcess is not null;

    /// <summary>`start ID`: its exit code and what it said on stderr.</summary>
    public (int Code, string Stderr) Start() => inProcess?.Start(config.Id) ?? Run(["start", config.Id]);

    /// <summary>`delete --force ID`: its exit code and what it said on stderr.</summary>
    public (int Code, string Stderr) ForceDelete() => inProcess?.ForceDelete(config.Id) ?? Run(["delete", "--force", config.Id]);

    public IReadOnlyList<string> Argv(IEnumerable<string> verb) => [config.Runtime, .. config.RuntimeArgs, .. verb];

    /// <summary>Starts a verb with the given stdio and returns its pid; the caller reaps it.</summary>
    public int Spawn(IEnumerable<string> verb, int stdin, int stdout, int stderr) =>
        SpawnProgram(config.Runtime, Argv(verb), stdin, stdout, stderr);

    public int SpawnProgram(string path, IReadOnlyList<string> argv, int stdin, int stdout, int stderr)
    {
        try
        {
            return Libc.Spawn(path, argv, environment, stdin, stdout, stderr, defaultSignals: true);
        }
        catch (SyscallException e)
        {
            throw new MonitorException($"cannot run {path}: {e.Message}");
        }
    }

    /// <summary>
    /// Runs a verb to its end with stdin and stdout on /dev/null, and returns its exit code and what it
    /// said on stderr (kept in a memfd: a pipe could fill up while this waits).
    /// </summary>
    public (int Code, string Stderr) Run(IEnumerable<string> verb) => RunProgram(config.Runtime, Argv(verb), VerbTimeout);

    public (int Code, string Stderr) RunProgram(string path, IReadOnlyList<string> argv, TimeSpan timeout)
    {
        using var devNull = Libc.Open("/dev/null", Libc.O_RDWR);
        using var errors = new FileDescriptor(Errors.Check(Libc.memfd_create("moat-monitor-stderr", Libc.MFD_CLOEXEC), "memfd_create"));
        var pid = SpawnProgram(path, argv, devNull.Fd, devNull.Fd, errors.Fd);
        var code = WaitWithTimeout(pid, timeout);
        return (code, ReadAll(errors));
    }

    /// <summary>Waits for a child of this process; past the timeout it is killed (a hung runtime must not hang the monitor).</summary>
    public static unsafe int WaitWithTimeout(int pid, TimeSpan timeout)
    {
        using (var pidfd = Libc.TryPidfdOpen(pid))
        {
            if (pidfd is not null)
            {
                var poll = new Libc.PollFd { Fd = pidfd.Fd, Events = Libc.POLLIN };
                var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
                while (true)
                {
                    var left = deadline - Environment.TickCount64;
                    if (left <= 0)
                    {
                        Libc.kill(pid, Libc.SIGKILL);
                        break;
                    }
                    var n = Libc.poll(&poll, 1, (int)Math.Min(left, int.MaxValue));
                    if (n > 0 || (n < 0 && Errors.LastErrno != Errors.EINTR))
                        break;
                }
            }
        }
        int status;
        int result;
        do
            result = Libc.waitpid(pid, &status, 0);
        while (result < 0 && Errors.LastErrno == Errors.EINTR);
        Errors.Check(result, "waitpid", pid.ToString());
        return ExitCode(status);
    }

    /// <summary>A wait status the shell way: the exit status, or 128+N for death by signal N.</summary>
    public static int ExitCode(int status) => (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);

    static unsafe string ReadAll(FileDescriptor fd)
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
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// The sentence a failed runtime said: its last line, without the program's prefix ("moat: ",
    /// "Error: ", runc's logrus `msg="..."`); or, when it said nothing, how it ended.
    /// </summary>
    public string ErrorSentence(string verb, int code, string stderr)
    {
        var line = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (string.IsNullOrEmpty(line))
            return $"{Path.GetFileName(config.Runtime)} {verb} failed with exit code {code}";
        var msg = line.IndexOf("msg=\"", StringComparison.Ordinal);
        if (msg >= 0)
        {
            var end = line.IndexOf('"', msg + 5);
            while (end > 0 && line[end - 1] == '\\')
                end = line.IndexOf('"', end + 1);
            line = (end > msg ? line[(msg + 5)..end] : line[(msg + 5)..]).Replace("\\\"", "\"");
        }
        foreach (var prefix in new[] { "Error: ", "error: ", $"{Path.GetFileName(config.Runtime)}: ", "moat: ", "crun: ", "runc: " })
            if (line.StartsWith(prefix, StringComparison.Ordinal))
                line = line[prefix.Length..];
        return line;
    }

    static string[] EnvironmentList()
    {
        var list = new List<string>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            list.Add($"{entry.Key}={entry.Value}");
        return [.. list];
    }
}
