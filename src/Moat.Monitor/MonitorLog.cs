using System.Text;
using Moat.Interop;

namespace Moat.Monitor;

/// <summary>
/// The monitor's own log (<c>monitor.log</c> in the container's directory): its warnings and failures,
/// one timestamped line each. The monitor's stdio is /dev/null, so this is the only place they can go.
/// Opened per line: lines are rare, and the file may be removed with the directory (`--rm`).
/// </summary>
public sealed class MonitorLog(string path)
{
    public void Write(string message)
    {
        var line = Encoding.UTF8.GetBytes($"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {message}\n");
        var fd = Libc.open(path, Libc.O_WRONLY | Libc.O_APPEND | Libc.O_CREAT | Libc.O_CLOEXEC | Libc.O_NOCTTY, 0x180);
        if (fd < 0)
            return; // nowhere left to say it
        try
        {
            Libc.WriteAll(fd, line, path);
        }
        catch (SyscallException)
        {
        }
        finally
        {
            Libc.close(fd);
        }
    }
}
