using Moat.Interop;

namespace Moat.Monitor.Protocol;

/// <summary>
/// Reads a container's log as the monitor writes it (<see cref="LogFormat"/>; k8s-file or json-file),
/// with its rotated files (LOG.N, the oldest, ... LOG.1, then LOG itself): what `moat logs` shows.
/// </summary>
public static class LogReader
{
    /// <summary>The log's files oldest first: the rotated ones that exist, then the log itself if it exists.</summary>
    public static IReadOnlyList<string> Files(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var name = Path.GetFileName(path);
        var rotated = new List<(int N, string Path)>();
        if (Directory.Exists(directory))
            foreach (var file in Directory.EnumerateFiles(directory, name + ".*"))
            {
                var fileName = Path.GetFileName(file);
                // The pattern also matches the log itself (".*" may match nothing): only NAME.<number> counts.
                if (fileName.Length > name.Length + 1 && fileName[name.Length] == '.'
                    && int.TryParse(fileName.AsSpan(name.Length + 1), out var n) && n > 0)
                    rotated.Add((n, file));
            }
        rotated.Sort((a, b) => b.N.CompareTo(a.N));
        var files = rotated.Select(r => r.Path).ToList();
        if (File.Exists(path))
            files.Add(path);
        return files;
    }

    /// <summary>
    /// Every entry of the log, pieces of a line joined into one entry (its time is its first piece's),
    /// from <paramref name="since"/> on (inclusive) and then the last <paramref name="tail"/> ones (null: all).
    /// </summary>
    public static List<LogEntry> Read(string path, string driver, DateTimeOffset? since = null, int? tail = null)
    {
        var entries = new List<LogEntry>();
        foreach (var file in Files(path))
        {
            using var stream = OpenShared(file);
            if (stream is null)
                continue;
            var reader = new LineReader(stream, driver);
            reader.ReadAvailable(entries);
        }
        return Select(Merge(entries), since, tail);
    }

    /// <summary>
    /// <see cref="Read"/>, then every entry written after, as it comes (pieces of lines as they are
    /// written), across rotations; ends once <paramref name="stop"/> says so (e.g. the container has
    /// exited and its monitor is gone) and what was written before is read, or when cancelled.
    /// </summary>
    public static IEnumerable<LogEntry> Follow(string path, string driver, DateTimeOffset? since, int? tail, Func<bool> stop,
        CancellationToken cancel = default, int pollMilliseconds = 100)
    {
        // The live file is opened first: what is renamed away after this is still read through it.
        var current = OpenShared(path);
        var initial = new List<LogEntry>();
        foreach (var file in Files(path))
        {
            if (file == path)
                continue;
            using var stream = OpenShared(file);
            if (stream is not null)
                new LineReader(stream, driver).ReadAvailable(initial);
        }
        var reader = current is null ? null : new LineReader(current, driver);
        reader?.ReadAvailable(initial);
        try
        {
            foreach (var entry in Select(Merge(initial), since, tail))
                yield return entry;
            var stopping = false;
            var fresh = new List<LogEntry>();
            while (!cancel.IsCancellationRequested)
            {
                fresh.Clear();
                reader?.ReadAvailable(fresh);
                foreach (var entry in fresh)
                    if (since is null || entry.Time >= since)
                        yield return entry;
                if (fresh.Count > 0)
                    continue;
                // Nothing new in the open file: has it been rotated away (another file at the path now)?
                var identity = Libc.TryIdentity(path);
                if (identity is { } now && (reader is null || now.Inode != reader.Inode))
                {
                    reader?.Dispose();
                    var next = OpenShared(path);
                    reader = next is null ? null : new LineReader(next, driver);
                    continue;
                }
                if (stopping)
                    break;
                if (stop())
                {
                    stopping = true; // one more pass: what was written just before the end
                    continue;
                }
                cancel.WaitHandle.WaitOne(pollMilliseconds);
            }
        }
        finally
        {
            reader?.Dispose();
        }
    }

    /// <summary>Joins each run of partial entries of one stream with the entry that ends it.</summary>
    static List<LogEntry> Merge(List<LogEntry> entries)
    {
        var merged = new List<LogEntry>(entries.Count);
        var open = new Dictionary<string, (DateTimeOffset Time, System.Text.StringBuilder Text)>();
        foreach (var entry in entries)
        {
            if (open.TryGetValue(entry.Stream, out var pending))
            {
                pending.Text.Append(entry.Text);
                if (!entry.Partial)
                {
                    merged.Add(new LogEntry(pending.Time, entry.Stream, pending.Text.ToString()));
                    open.Remove(entry.Stream);
                }
            }
            else if (entry.Partial)
                open[entry.Stream] = (entry.Time, new System.Text.StringBuilder(entry.Text));
            else
                merged.Add(entry);
        }
        // A line still being written: shown as far as it goes.
        foreach (var (stream, pending) in open)
            merged.Add(new LogEntry(pending.Time, stream, pending.Text.ToString()));
        return merged;
    }

    static List<LogEntry> Select(List<LogEntry> entries, DateTimeOffset? since, int? tail)
    {
        IEnumerable<LogEntry> selected = entries;
        if (since is { } from)
            selected = selected.Where(e => e.Time >= from);
        var list = selected.ToList();
        if (tail is { } n && n >= 0 && list.Count > n)
            list = list.GetRange(list.Count - n, n);
        return list;
    }

    static FileStream? OpenShared(string path)
    {
        try
        {
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0,
            });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Whole lines from a growing file: a line still being written stays buffered until its newline.</summary>
    sealed class LineReader(FileStream stream, string driver) : IDisposable
    {
        readonly byte[] chunk = new byte[64 * 1024];
        byte[] pending = new byte[4096];
        int pendingLength;

        public ulong Inode { get; } = Libc.Identity((int)stream.SafeFileHandle.DangerousGetHandle()).Inode;

        public void ReadAvailable(List<LogEntry> into)
        {
            int n;
            while ((n = stream.Read(chunk)) > 0)
            {
                var data = chunk.AsSpan(0, n);
                while (!data.IsEmpty)
                {
                    var newline = data.IndexOf((byte)'\n');
                    if (newline < 0)
                    {
                        Append(data);
                        break;
                    }
                    ReadOnlySpan<byte> line;
                    if (pendingLength > 0)
                    {
                        Append(data[..newline]);
                        line = pending.AsSpan(0, pendingLength);
                    }
                    else
                        line = data[..newline];
                    if (LogFormat.Parse(driver, line) is { } entry)
                        into.Add(entry);
                    pendingLength = 0;
                    data = data[(newline + 1)..];
                }
            }
        }

        void Append(ReadOnlySpan<byte> data)
        {
            if (pendingLength + data.Length > pending.Length)
                Array.Resize(ref pending, Math.Max(pending.Length * 2, pendingLength + data.Length));
            data.CopyTo(pending.AsSpan(pendingLength));
            pendingLength += data.Length;
        }

        public void Dispose() => stream.Dispose();
    }
}
