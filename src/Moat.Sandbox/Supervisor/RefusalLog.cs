using System.Buffers;
using System.Text;
using System.Text.Json;
using Moat.Interop;

namespace Moat.Sandbox.Supervisor;

/// <summary>Where an engine wants to hear of refusals: a copy of the counts in its own container
/// directory (the runtime's state goes at delete) and its events journal, with the container's name and image.</summary>
public sealed record RefusalReport(string? CountFile, string? EventsJournal, string? Name, string? Image);

/// <summary>
/// Every refusal as one JSON line in the container's state directory (sandbox-refusals.log: time,
/// container, pid, call, arguments, rule), and the count by call in sandbox-refusals.json, written
/// atomically (temporary file, rename) so that `moat inspect` and `events` can read it at any time.
/// For an engine (<see cref="RefusalReport"/>) the counts are also kept in its container directory, and
/// refusals become `sandbox_refusal` events in its journal, throttled: the first refusal after a quiet
/// second at once, then at most one summary a second (how many, by call, the last rule), so a workload
/// that hammers a refused call cannot flood the journal every engine and `moat events` reads.
/// </summary>
public sealed class RefusalLog(string stateDirectory, string containerId, RefusalReport? report = null)
{
    public const string LogFile = "sandbox-refusals.log", CountFile = "sandbox-refusals.json";
    public const string EventAction = "sandbox_refusal";
    static readonly TimeSpan EventWindow = TimeSpan.FromSeconds(1);

    readonly Dictionary<string, long> byCall = new(StringComparer.Ordinal);
    long total;
    readonly object gate = new();
    readonly Dictionary<string, long> windowByCall = new(StringComparer.Ordinal);
    long windowCount;
    string lastRule = "";
    int lastPid;
    Timer? window;

    public long Total => total;

    public void Refuse(int pid, string call, IReadOnlyList<(string Name, string Value)> arguments, string rule, int errno)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time"u8, DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("container"u8, containerId);
            w.WriteNumber("pid"u8, pid);
            w.WriteString("call"u8, call);
            w.WriteStartObject("arguments"u8);
            foreach (var (name, value) in arguments)
                w.WriteString(name, value);
            w.WriteEndObject();
            w.WriteString("rule"u8, rule);
            w.WriteNumber("errno"u8, errno);
            w.WriteEndObject();
        }
        var line = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(line);
        line[^1] = (byte)'\n';
        lock (gate)
        {
            total++;
            byCall[call] = (byCall.TryGetValue(call, out var n) ? n : 0) + 1;
            Append(line);
            WriteCounts();
            if (report?.EventsJournal is not null)
                NoteForEvents(call, rule, pid);
        }
    }

    /// <summary>Counts a refusal for the journal: an event now when no window is open, else in the window's summary.</summary>
    void NoteForEvents(string call, string rule, int pid)
    {
        windowCount++;
        windowByCall[call] = (windowByCall.TryGetValue(call, out var n) ? n : 0) + 1;
        lastRule = rule;
        lastPid = pid;
        if (window is not null)
            return;
        EmitEvent();
        window = new Timer(_ => CloseOrExtendWindow(), null, EventWindow, Timeout.InfiniteTimeSpan);
    }

    void CloseOrExtendWindow()
    {
        lock (gate)
        {
            if (windowCount == 0)
            {
                window?.Dispose();
                window = null;
                return;
            }
            EmitEvent();
            window?.Change(EventWindow, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>What is still in the window, into the journal (the supervisor's last act).</summary>
    public void Flush()
    {
        lock (gate)
        {
            window?.Dispose();
            window = null;
            if (windowCount > 0)
                EmitEvent();
        }
    }

    void EmitEvent()
    {
        var attributes = new Dictionary<string, string>
        {
            ["name"] = report!.Name ?? containerId,
            ["image"] = report.Image ?? "",
            ["refusals"] = windowCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["total"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["calls"] = string.Join(',', windowByCall.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}")),
            ["rule"] = Describe(lastRule),
            ["pid"] = lastPid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        windowCount = 0;
        windowByCall.Clear();
        try
        {
            Moat.Monitor.Protocol.ProtocolFiles.AppendEvent(report.EventsJournal!, new Moat.Monitor.Protocol.EngineEvent
            {
                Type = "container", Action = EventAction, Id = containerId, Time = DateTimeOffset.UtcNow, Attributes = attributes,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The journal is for watching: the log and the counts stay the record.
        }
    }

    void Append(byte[] line)
    {
        try
        {
            using var fd = Libc.Open(Path.Combine(stateDirectory, LogFile), Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, Convert.ToUInt32("600", 8));
            Libc.WriteAll(fd.Fd, line, LogFile);
        }
        catch (SyscallException)
        {
            // The state directory is gone (the container is being deleted): nothing left to tell.
        }
    }

    void WriteCounts()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("refusals"u8, total);
            w.WriteStartObject("byCall"u8);
            foreach (var (call, n) in byCall.OrderBy(c => c.Key, StringComparer.Ordinal))
                w.WriteNumber(call, n);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        WriteAtomically(Path.Combine(stateDirectory, CountFile), buffer.WrittenSpan);
        if (report?.CountFile is { } engineCopy)
            WriteAtomically(engineCopy, buffer.WrittenSpan);
    }

    static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temporary = path + ".tmp";
        try
        {
            using (var fd = Libc.Open(temporary, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC, Convert.ToUInt32("644", 8)))
                Libc.WriteAll(fd.Fd, content, CountFile);
            // No fsync: this is rewritten on every refusal (a flood would wait on the disk each time), and
            // the log's lines are the record; rename still never shows a half-written count.
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is SyscallException or IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Reads the count file: total refusals, or 0 when there is none.</summary>
    public static long ReadTotal(string stateDirectory)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(stateDirectory, CountFile)));
            return document.RootElement.GetProperty("refusals").GetInt64();
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException)
        {
            return 0;
        }
    }

    public static string Describe(string text) => text.Length > 512 ? text[..512] + "…" : text;

    public static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
