using System.Buffers;
using Moat.Interop;
using Moat.Monitor.Protocol;

namespace Moat.Monitor;

/// <summary>
/// Writes the container's output to its log in the configured format (<see cref="LogFormat"/>) and
/// rotates it as docker's json-file driver does: before an entry would take the file past the maximum
/// size, LOG.(N-1) becomes LOG.N ... LOG becomes LOG.1 (the oldest beyond the kept count is dropped)
/// and a new LOG begins. Each piece of output is written with one write(2) per file, so a reader sees
/// whole entries (it keeps a torn last line until its newline comes anyway).
/// </summary>
public sealed class ContainerLogWriter : IDisposable
{
    readonly string path;
    readonly string driver;
    readonly long maxSize;
    readonly int maxFiles;
    readonly ArrayBufferWriter<byte> buffer = new(8192);
    readonly List<int> entryEnds = [];
    FileDescriptor fd;
    long size;

    public ContainerLogWriter(string path, string driver, long maxSize, int maxFiles)
    {
        this.path = path;
        this.driver = driver == LogDrivers.JsonFile ? LogDrivers.JsonFile : LogDrivers.K8sFile;
        this.maxSize = maxSize;
        this.maxFiles = Math.Max(1, maxFiles);
        fd = OpenLog();
    }

    FileDescriptor OpenLog()
    {
        var opened = Libc.Open(path, Libc.O_WRONLY | Libc.O_APPEND | Libc.O_CREAT | Libc.O_NOCTTY, 0x1A0 /* 0640 */);
        size = Libc.Identity(opened.Fd).Size;
        return opened;
    }

    public void Write(string stream, ReadOnlySpan<byte> data, DateTimeOffset time)
    {
        buffer.ResetWrittenCount();
        entryEnds.Clear();
        LogFormat.Encode(driver, time, stream, data, buffer, entryEnds);
        var written = buffer.WrittenSpan;
        var start = 0;
        // Write runs of entries that fit; rotate before an entry that would overflow a non-empty file.
        var runStart = 0;
        foreach (var end in entryEnds)
        {
            if (maxSize > 0 && size + (start - runStart) > 0 && size + (end - runStart) > maxSize)
            {
                Flush(written[runStart..start]);
                if (size > 0)
                    Rotate();
                runStart = start;
            }
            start = end;
        }
        Flush(written[runStart..start]);
    }

    void Flush(ReadOnlySpan<byte> entries)
    {
        if (entries.IsEmpty)
            return;
        Libc.WriteAll(fd.Fd, entries, path);
        size += entries.Length;
    }

    void Rotate()
    {
        fd.Dispose();
        // The oldest kept file is overwritten by the rename below it (rename replaces its target).
        for (var n = maxFiles - 1; n >= 1; n--)
        {
            var from = $"{path}.{n}";
            if (File.Exists(from))
                File.Move(from, $"{path}.{n + 1}", overwrite: true);
        }
        File.Move(path, $"{path}.1", overwrite: true);
        fd = OpenLog();
    }

    public void Dispose() => fd.Dispose();
}
