using Moat.Interop;

namespace Moat.Images.Storage;

/// <summary>
/// Small files written whole or not at all: a temporary file, fsync, rename, fsync of the directory. Without
/// <c>durable</c> the two fsyncs are left out: still whole after a crash of the writer, not after a power cut.
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite, bool durable = true)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp");
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0, UnixCreateMode = mode,
            }))
            {
                stream.Write(content);
                if (durable)
                    stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        if (durable)
            BlobStore.SyncDirectory(directory);
    }
}
