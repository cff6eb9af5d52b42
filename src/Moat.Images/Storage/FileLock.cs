using Moat.Interop;

namespace Moat.Images.Storage;

/// <summary>
/// An flock(2) on a lock file, shared between the threads of this process and other processes alike
/// (each holder opens its own description). The kernel drops the lock when the holder dies, so a lock
/// file left behind by a crash blocks nobody.
/// </summary>
internal sealed class FileLock : IDisposable
{
    // A waiter polls: flock has no timeout and a thread blocked in it cannot be cancelled without a
    // signal. 50 ms is cheap next to the download it waits for.
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    readonly FileDescriptor fd;
    public string Path { get; }

    FileLock(string path, FileDescriptor fd) { Path = path; this.fd = fd; }

    /// <summary>Waits for the lock, honouring the cancellation; creates the lock file if needed.</summary>
    public static FileLock Acquire(string path, bool exclusive, CancellationToken cancellation) =>
        TryAcquireCore(path, exclusive, wait: true, cancellation)!;

    /// <summary>The lock if nobody holds it now, else null.</summary>
    public static FileLock? TryAcquire(string path, bool exclusive) =>
        TryAcquireCore(path, exclusive, wait: false, CancellationToken.None);

    static FileLock? TryAcquireCore(string path, bool exclusive, bool wait, CancellationToken cancellation)
    {
        var operation = (exclusive ? Libc.LOCK_EX : Libc.LOCK_SH) | Libc.LOCK_NB;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_NOCTTY | Libc.O_NOFOLLOW, 0b110_000_000);
            try
            {
                while (Errors.RetryOnEintr(() => Libc.flock(fd.Fd, operation)) < 0)
                {
                    if (Errors.LastErrno != Errors.EAGAIN)
                        throw new SyscallException("flock", Errors.LastErrno, path);
                    if (!wait)
                    {
                        fd.Dispose();
                        return null;
                    }
                    if (cancellation.WaitHandle.WaitOne(PollInterval))
                        cancellation.ThrowIfCancellationRequested();
                }
                // The previous holder may have removed the lock file after it was done with it: a lock on a
                // removed file excludes nobody who opens the path now, so start over on the current file.
                if (Libc.LinkCount(fd) > 0)
                    return new FileLock(path, fd);
                fd.Dispose();
            }
            catch
            {
                fd.Dispose();
                throw;
            }
        }
    }

    /// <summary>Removes the lock file while still holding the lock (holders that reopen then see a new file).</summary>
    public void RemoveFile()
    {
        try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public void Dispose() => fd.Dispose();
}
