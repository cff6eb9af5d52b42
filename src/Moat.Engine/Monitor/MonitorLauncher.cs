using System.Collections;
using System.Text;
using System.Text.Json;
using Moat.Engine.Containers;
using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Engine.Monitor;

/// <summary>
/// Starts a container's monitor (`moat-monitor DIR`) detached from us — a session of its own, stdio on
/// /dev/null — with the sync pipe as its fd 3, and waits for its one line: {"pid":N} once the runtime's create
/// succeeded, or {"error":"sentence"}.
/// </summary>
public static class MonitorLauncher
{
    public sealed record Launched(int MonitorPid, ulong MonitorStartTime, int ContainerPid);

    /// <summary>How long the runtime's create may take before we give up on the monitor (a loaded machine is slow, never this slow).</summary>
    static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(120);

    public static Launched Launch(string monitorExecutable, string containerDirectory)
    {
        var (read, write) = Libc.Pipe();
        int pid;
        using (read)
        {
            // A session of its own (no terminal signal of ours reaches it), stdio on /dev/null, the pipe as its sync descriptor.
            using (write)
            using (var devNull = Libc.Open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC))
                pid = Libc.SpawnDetached(monitorExecutable, [monitorExecutable, containerDirectory], Environment(),
                    [(devNull.Fd, 0), (devNull.Fd, 1), (devNull.Fd, 2), (write.Fd, ContainerFiles.SyncDescriptor)], newSession: true);
            // Read the start time at once, while the monitor certainly lives (it waits on the runtime).
            var startTime = ProcStat.StartTime(pid) ?? 0;
            var line = ReadLine(read, pid);
            // The monitor is our child until we exit; reap it now if it already gave up.
            Reap(pid);
            if (line is null)
                throw new EngineException($"the container's monitor exited without a word{MonitorLogTail(containerDirectory)}");
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.TryGetProperty("error", out var error))
                throw new StartFailedException(error.GetString() ?? "the container's monitor failed");
            if (!root.TryGetProperty("pid", out var containerPid))
                throw new EngineException($"the container's monitor answered '{line}', which is neither a pid nor an error");
            return new Launched(pid, startTime, containerPid.GetInt32());
        }
    }

    /// <summary>Collects a monitor that has exited (it was our child); a live one is left alone.</summary>
    public static unsafe void Reap(int pid)
    {
        int status;
        Libc.waitpid(pid, &status, Libc.WNOHANG);
    }

    static unsafe string? ReadLine(FileDescriptor fd, int pid)
    {
        var deadline = DateTime.UtcNow + SyncTimeout;
        var bytes = new List<byte>();
        var buffer = new byte[512];
        while (true)
        {
            var poll = new Libc.PollFd { Fd = fd.Fd, Events = Libc.POLLIN };
            var remaining = (int)Math.Max(0, (deadline - DateTime.UtcNow).TotalMilliseconds);
            var ready = Libc.poll(&poll, 1, Math.Min(remaining, 1000));
            if (ready < 0 && Errors.LastErrno == Errors.EINTR) continue;
            if (ready == 0)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    Libc.kill(pid, Libc.SIGKILL);
                    throw new EngineException($"the container's monitor did not report within {SyncTimeout.TotalSeconds:0} seconds; it was killed");
                }
                continue;
            }
            var n = Libc.Read(fd.Fd, buffer, "the monitor's sync pipe");
            if (n == 0)
                break;
            bytes.AddRange(buffer.AsSpan(0, n));
            if (bytes.Contains((byte)'\n'))
                break;
        }
        var text = Encoding.UTF8.GetString(bytes.ToArray()).Split('\n')[0].Trim();
        return text.Length == 0 ? null : text;
    }

    static string MonitorLogTail(string containerDirectory)
    {
        var text = Libc.TryReadText(Path.Combine(containerDirectory, ContainerFiles.MonitorLog))?.Trim();
        return string.IsNullOrEmpty(text) ? "" : ": " + text.Split('\n')[^1];
    }

    static List<string> Environment()
    {
        var list = new List<string>();
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
            list.Add($"{entry.Key}={entry.Value}");
        return list;
    }
}
