using Moat.Interop;

namespace Moat.Runtime.Create;

/// <summary>
/// A sealed in-memory copy of the moat binary to exec the init stage from, so that a container that
/// reaches /proc/PID/exe finds a file no one can write (CVE-2019-5736), not the binary on disk.
/// </summary>
public static unsafe class SealedBinary
{
    public static FileDescriptor Create(string path = "/proc/self/exe")
    {
        using var source = Libc.Open(path, Libc.O_RDONLY);
        var memfd = new FileDescriptor(Errors.Check(Libc.memfd_create("moat", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING), "memfd_create"));
        try
        {
            while (true)
            {
                var n = Libc.sendfile(memfd.Fd, source.Fd, null, 1 << 30);
                if (n < 0 && Errors.LastErrno == Errors.EINTR)
                    continue;
                if (n < 0)
                    throw new SyscallException("sendfile", Errors.LastErrno, path);
                if (n == 0)
                    break;
            }
            Errors.Check(Libc.fcntl(memfd.Fd, Libc.F_ADD_SEALS, Libc.F_SEAL_SEAL | Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_WRITE), "seal memfd");
            return memfd;
        }
        catch
        {
            memfd.Dispose();
            throw;
        }
    }
}
