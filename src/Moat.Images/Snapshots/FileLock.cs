using Moat.Interop;

namespace Moat.Images.Snapshots;

/// <summary>An exclusive flock on a lock file: held by this process until disposed, waited for by everyone else (threads included).</summary>
internal sealed class FileLock : IDisposable
{
    readonly FileDescriptor fd;

    FileLock(FileDescriptor fd) => this.fd = fd;

    public static FileLock Exclusive(string path)
    {
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_NOFOLLOW, 0b110_000_000);
        try
        {
            Errors.Check(Errors.RetryOnEintr(() => Libc.flock(fd.Fd, Libc.LOCK_EX)), "flock", path);
            return new FileLock(fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public void Dispose() => fd.Dispose();
}
