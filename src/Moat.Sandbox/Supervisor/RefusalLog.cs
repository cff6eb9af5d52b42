using System.Buffers;
using System.Text;
using System.Text.Json;
using Moat.Interop;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// Every refusal as one JSON line in the container's state directory (sandbox-refusals.log: time,
/// container, pid, call, arguments, rule), and the count by call in sandbox-refusals.json, written
/// atomically (temporary file, rename) so that `moat inspect` and `events` can read it at any time.
/// </summary>
public sealed class RefusalLog(string stateDirectory, string containerId)
{
    public const string LogFile = "sandbox-refusals.log", CountFile = "sandbox-refusals.json";

    readonly Dictionary<string, long> byCall = new(StringComparer.Ordinal);
    long total;
    readonly object gate = new();

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
        var path = Path.Combine(stateDirectory, CountFile);
        var temporary = path + ".tmp";
        try
        {
            using (var fd = Libc.Open(temporary, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC, Convert.ToUInt32("644", 8)))
                Libc.WriteAll(fd.Fd, buffer.WrittenSpan, CountFile);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is SyscallException or IOException)
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
