using System.Text;
using Moat.Interop;

namespace Moat.Runtime.Host;

/// <summary>
/// A host program the runtime runs to its end while it works (newuidmap/newgidmap for a rootless id
/// map, `moat audit` for the audit annotation): found by name, run with stdin on /dev/null, its exit
/// status and what it printed returned. Hooks have their own runner (stdin, timeouts: Hooks/HookRunner).
/// </summary>
public static class HostProgram
{
    /// <summary>The first <paramref name="directories"/> entry that holds <paramref name="name"/>, or null.</summary>
    public static string? Find(string name, IEnumerable<string> directories)
    {
        foreach (var dir in directories)
        {
            var path = Path.Combine(dir, name);
            if (dir.Length > 0 && File.Exists(path))
                return path;
        }
        return null;
    }

    public static (int Status, string Stdout, string Stderr) Run(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp)
    {
        using var stdout = new FileDescriptor(Errors.Check(Libc.memfd_create("moat-program-out", Libc.MFD_CLOEXEC), "memfd_create"));
        using var stderr = new FileDescriptor(Errors.Check(Libc.memfd_create("moat-program-err", Libc.MFD_CLOEXEC), "memfd_create"));
        using var devNull = Libc.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC);
        var pid = Libc.Spawn(path, argv, envp, devNull.Fd, stdout.Fd, stderr.Fd);
        using var pidfd = Libc.PidfdOpen(pid);
        var status = Libc.WaitExitCode(pidfd);
        return (status, ReadAll(stdout), ReadAll(stderr));
    }

    static unsafe string ReadAll(FileDescriptor fd)
    {
        var bytes = new List<byte>();
        var buffer = new byte[65536];
        long offset = 0;
        while (true)
        {
            nint n;
            fixed (byte* b = buffer)
                n = Libc.pread(fd.Fd, b, buffer.Length, offset);
            if (n <= 0)
                break;
            bytes.AddRange(buffer.AsSpan(0, (int)n));
            offset += n;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
