using Moat.Interop;

namespace Moat.Audit.Host;

/// <summary>
/// Every read the host audit makes, by host path ("/proc/sys/kernel/kptr_restrict"), resolved under a root
/// directory: "/" on a real host, a temp directory holding a fake /proc/sys and /sys tree in tests.
/// Nothing here writes.
/// </summary>
public interface IHostFiles
{
    /// <summary>The text of a file, trimmed of its final newline; null when it does not exist or cannot be read.</summary>
    string? ReadText(string hostPath);

    /// <summary>Mode (type and permission bits), owner and group, following symlinks; null when missing.</summary>
    (uint Mode, uint Uid, uint Gid)? Stat(string hostPath);

    /// <summary>Reads up to buffer.Length bytes at offset; the count read (0 at the end or when missing).</summary>
    int ReadAt(string hostPath, long offset, Span<byte> buffer);
}

/// <summary>Host paths under a root directory ("/" for the machine itself).</summary>
public sealed class RootedHostFiles(string root = "/") : IHostFiles
{
    public string Root { get; } = root;

    public string Resolve(string hostPath) => Root == "/" ? hostPath : Path.Join(Root, hostPath);

    public string? ReadText(string hostPath)
    {
        try
        {
            return File.ReadAllText(Resolve(hostPath)).TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public (uint Mode, uint Uid, uint Gid)? Stat(string hostPath) => Libc.TryStat(Resolve(hostPath));

    public int ReadAt(string hostPath, long offset, Span<byte> buffer)
    {
        try
        {
            using var handle = File.OpenHandle(Resolve(hostPath));
            var total = 0;
            while (total < buffer.Length)
            {
                var read = RandomAccess.Read(handle, buffer[total..], offset + total);
                if (read == 0) break;
                total += read;
            }
            return total;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
