using System.Text;
using Moat.Monitor.Protocol;

namespace Moat.Engine.Events;

/// <summary>`&lt;root&gt;/events.jsonl`: the engine appends create, destroy, stop, kill, pause, unpause, rename...; monitors append start, die, health_status...</summary>
public sealed class EventJournal(string path)
{
    public string Path { get; } = path;

    public void Container(string action, string id, string name, string image, IReadOnlyDictionary<string, string>? extra = null)
    {
        var attributes = new Dictionary<string, string> { ["name"] = name, ["image"] = image };
        foreach (var (k, v) in extra ?? new Dictionary<string, string>())
            attributes[k] = v;
        Append(new EngineEvent { Type = "container", Action = action, Id = id, Time = DateTimeOffset.UtcNow, Attributes = attributes });
    }

    public void Append(EngineEvent value)
    {
        try
        {
            ProtocolFiles.AppendEvent(Path, value);
        }
        catch (IOException)
        {
            // The journal is for watching; a full disk must not fail the verb that did its work.
        }
    }

    /// <summary>Every event in the journal from <paramref name="offset"/>; returns the offset after the last whole line.</summary>
    public long Read(long offset, List<EngineEvent> into)
    {
        if (!File.Exists(Path))
            return offset;
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (offset > stream.Length) offset = 0; // truncated under us: start over
        stream.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[stream.Length - offset];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0) break;
            read += n;
        }
        var start = 0;
        for (var i = 0; i < read; i++)
        {
            if (buffer[i] != (byte)'\n') continue;
            try
            {
                into.Add(ProtocolFiles.ParseEvent(buffer.AsSpan(start, i - start)));
            }
            catch (System.Text.Json.JsonException)
            {
                // A line another version wrote, or damaged: skipped, the rest still counts.
            }
            start = i + 1;
        }
        return offset + start;
    }

    static readonly Encoding Utf8 = new UTF8Encoding(false);
}
