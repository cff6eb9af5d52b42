using Moat.Interop;

namespace Moat.Monitor;

/// <summary>
/// The container's directory, held open: a unix socket's path must fit sun_path (107 bytes), and
/// `&lt;root&gt;/containers/&lt;64 hex digits&gt;/attach.sock` may not. A socket whose full path is too long is
/// bound and reached through /proc/PID/fd/N/NAME instead (conmon does the same), which any process
/// of the same user can follow while this monitor lives.
/// </summary>
public sealed class ContainerDirectory(string path) : IDisposable
{
    readonly FileDescriptor fd = Libc.Open(path, Libc.O_PATH | Libc.O_DIRECTORY);
    readonly int pid = Environment.ProcessId;

    public string Path { get; } = path;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>A path to NAME in this directory short enough for a unix socket address.</summary>
    public string SocketPath(string name)
    {
        var full = File(name);
        return System.Text.Encoding.UTF8.GetByteCount(full) < Libc.UnixPathMax ? full : $"/proc/{pid}/fd/{fd.Fd}/{name}";
    }

    public void Dispose() => fd.Dispose();
}
