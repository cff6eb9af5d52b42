using System.Buffers;
using System.Text.Json;
using Moat.Interop;
using Moat.Runtime.State;

namespace Moat.Sandbox.Tier;

/// <summary>
/// Where a sandboxed container's supervisor lives on disk: its socket for exec (beside the state root,
/// in the cache directory that, like the root, only root may enter), and in the container's state
/// directory the supervisor's record (sandbox.json: pid and start time, so delete stops exactly it) and
/// the effective policy (sandbox-policy.json, which exec needs for its Landlock ruleset).
/// </summary>
public static class SupervisorFiles
{
    public const string RecordFile = "sandbox.json", PolicyFile = "sandbox-policy.json";

    public static string SocketDirectory(StateStore store) => store.CacheDirectory + "/sandbox";

    /// <summary>The socket's path, shortened to a hash of the id when the id would overflow sun_path.</summary>
    public static string SocketPath(StateStore store, string id)
    {
        var path = $"{SocketDirectory(store)}/{id}.sock";
        if (System.Text.Encoding.UTF8.GetByteCount(path) < 100)
            return path;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)))[..24];
        return $"{SocketDirectory(store)}/{hash}.sock";
    }

    public sealed record Record(int Pid, ulong StartTime, string Socket);

    public static void WriteRecord(string stateDirectory, Record record)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("supervisorPid"u8, record.Pid);
            w.WriteNumber("supervisorStartTime"u8, record.StartTime);
            w.WriteString("socket"u8, record.Socket);
            w.WriteEndObject();
        }
        WriteAtomically(Path.Combine(stateDirectory, RecordFile), buffer.WrittenSpan);
    }

    public static Record? ReadRecord(string stateDirectory)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(stateDirectory, RecordFile)));
            var root = document.RootElement;
            return new Record(root.GetProperty("supervisorPid").GetInt32(), root.GetProperty("supervisorStartTime").GetUInt64(), root.GetProperty("socket").GetString() ?? "");
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Temporary file, fsync, rename: a crash leaves the old file or the new one.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temporary = path + ".tmp";
        using (var fd = Libc.Open(temporary, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC, Convert.ToUInt32("600", 8)))
        {
            Libc.WriteAll(fd.Fd, content, temporary);
            Libc.fsync(fd.Fd);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
