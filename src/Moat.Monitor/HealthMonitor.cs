using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Monitor;

/// <summary>
/// docker's health check: every Interval (the first one Interval after the start) the command runs in
/// the container through the runtime's exec; a probe past its Timeout is killed and fails. A success
/// makes the container healthy; Retries failures in a row make it unhealthy, except that failures
/// within StartPeriod of the start do not count. The last five probes (output cut to 4 KiB) and the
/// status are in health.json; each change of status is reported to <see cref="StatusChanged"/>.
/// Killing a timed-out probe kills the runtime's exec process; a runtime that does not then kill the
/// process it started in the container leaves that process running there (docker has the same limit
/// with runc).
/// </summary>
public sealed unsafe class HealthMonitor(HealthCheck check, RuntimeClient runtime, string recordPath, MonitorLog log) : IDisposable
{
    const int MaxOutput = 4096;
    const int KeptProbes = 5;

    HealthRecord record = new() { Status = HealthStates.Starting };
    DateTimeOffset runStart;
    long nextProbe = long.MaxValue;
    Probe? running;

    public Action<string>? StatusChanged { get; set; }

    sealed class Probe
    {
        public required int Pid;
        public required FileDescriptor Pidfd;
        public required FileDescriptor Output;
        public required DateTimeOffset Start;
        public required long Deadline;
        public readonly List<byte> Text = [];
        public bool TimedOut;
        public bool OutputClosed;
    }

    /// <summary>A new run of the container: status starting, the first probe one interval from now.</summary>
    public void Begin()
    {
        Stop();
        runStart = DateTimeOffset.UtcNow;
        record = record with { Status = HealthStates.Starting, FailingStreak = 0 };
        Save();
        nextProbe = Environment.TickCount64 + Milliseconds(check.Interval);
    }

    /// <summary>The container stopped: no more probes (one running is killed and forgotten).</summary>
    public void Stop()
    {
        nextProbe = long.MaxValue;
        if (running is { } probe)
        {
            Libc.kill(probe.Pid, Libc.SIGKILL);
            probe.Pidfd.Dispose();
            probe.Output.Dispose();
            running = null;
        }
    }

    /// <summary>When the monitor must next call <see cref="OnTimer"/> (Environment.TickCount64), or long.MaxValue.</summary>
    public long NextDeadline => running is { TimedOut: false } probe ? probe.Deadline : running is null ? nextProbe : long.MaxValue;

    /// <summary>Descriptors to watch: the probe's exit (pidfd) and its output.</summary>
    public IEnumerable<(int Fd, Action Ready)> Watches()
    {
        if (running is not { } probe)
            yield break;
        yield return (probe.Pidfd.Fd, () => { }); // its exit is collected by the monitor's reaper
        if (!probe.OutputClosed)
            yield return (probe.Output.Fd, () => ReadOutput(probe));
    }

    public bool Owns(int pid) => running?.Pid == pid;

    public void OnTimer()
    {
        var now = Environment.TickCount64;
        if (running is { TimedOut: false } probe && now >= probe.Deadline)
        {
            probe.TimedOut = true;
            Libc.kill(probe.Pid, Libc.SIGKILL);
            return;
        }
        if (running is null && now >= nextProbe)
            Launch();
    }

    void Launch()
    {
        var fds = stackalloc int[2];
        Errors.Check(Libc.pipe2(fds, Libc.O_CLOEXEC), "pipe2");
        using var write = new FileDescriptor(fds[1]);
        var read = new FileDescriptor(fds[0]);
        try
        {
            ContainerRun.SetBlocking(read.Fd, false);
            using var devNull = Libc.Open("/dev/null", Libc.O_RDWR);
            var pid = runtime.Spawn(["exec", runtime.Id, .. check.Command], devNull.Fd, write.Fd, write.Fd);
            running = new Probe
            {
                Pid = pid,
                Pidfd = Libc.PidfdOpen(pid),
                Output = read,
                Start = DateTimeOffset.UtcNow,
                Deadline = Environment.TickCount64 + Milliseconds(check.Timeout),
            };
        }
        catch (Exception e) when (e is MonitorException or SyscallException)
        {
            read.Dispose();
            log.Write($"health check: {e.Message}");
            nextProbe = Environment.TickCount64 + Milliseconds(check.Interval);
        }
    }

    void ReadOutput(Probe probe)
    {
        var buffer = stackalloc byte[4096];
        while (true)
        {
            var n = Libc.read(probe.Output.Fd, buffer, 4096);
            if (n > 0)
            {
                // Beyond 4 KiB the output is read and dropped: the probe must not block on a full pipe.
                var keep = (int)Math.Min(n, MaxOutput - probe.Text.Count);
                if (keep > 0)
                    probe.Text.AddRange(new ReadOnlySpan<byte>(buffer, keep));
                continue;
            }
            if (n == 0 || Errors.LastErrno != Errors.EINTR)
            {
                if (n == 0)
                    probe.OutputClosed = true;
                return;
            }
        }
    }

    /// <summary>The probe's process has been reaped: record its result.</summary>
    public void OnExit(int exitCode)
    {
        if (running is not { } probe)
            return;
        ReadOutput(probe);
        probe.Pidfd.Dispose();
        probe.Output.Dispose();
        running = null;
        var end = DateTimeOffset.UtcNow;
        var output = probe.TimedOut
            ? $"Health check exceeded timeout ({check.Timeout.TotalSeconds:0.###}s)"
            : System.Text.Encoding.UTF8.GetString(probe.Text.ToArray());
        var code = probe.TimedOut ? -1 : exitCode;
        var probes = record.Log.ToList();
        probes.Add(new HealthProbe { Start = probe.Start, End = end, ExitCode = code, Output = output });
        if (probes.Count > KeptProbes)
            probes.RemoveRange(0, probes.Count - KeptProbes);
        var status = record.Status;
        var streak = record.FailingStreak;
        if (code == 0)
        {
            status = HealthStates.Healthy;
            streak = 0;
        }
        else if (probe.Start - runStart >= check.StartPeriod || status != HealthStates.Starting)
        {
            // Failures in the start period do not count (while the container has not yet been healthy).
            streak++;
            if (streak >= Math.Max(1, check.Retries))
                status = HealthStates.Unhealthy;
        }
        var changed = status != record.Status;
        record = record with { Status = status, FailingStreak = streak, Log = probes };
        Save();
        if (changed)
            StatusChanged?.Invoke(status);
        nextProbe = Environment.TickCount64 + Milliseconds(check.Interval);
    }

    void Save()
    {
        try
        {
            ProtocolFiles.Write(recordPath, record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SyscallException)
        {
            log.Write($"cannot write {recordPath}: {Moat.Oci.ErrorText.Of(e)}");
        }
    }

    static long Milliseconds(TimeSpan span) => Math.Max(1, (long)span.TotalMilliseconds);

    public void Dispose() => Stop();
}
