using Moat.Interop;

namespace Moat.Engine.Containers;

/// <summary>
/// The per-container flock (`&lt;root&gt;/containers/.locks/&lt;id&gt;`) every verb that changes a container holds:
/// two `moat` commands on one container take turns. The kernel drops it when the holder dies.
/// </summary>
public sealed class ContainerLock : IDisposable
{
    readonly FileDescriptor fd;

    ContainerLock(FileDescriptor fd) => this.fd = fd;

    public static string PathFor(string containersDirectory, string id) => Path.Combine(containersDirectory, ".locks", id);

    /// <summary>Waits for the lock.</summary>
    public static ContainerLock Acquire(string containersDirectory, string id) => TryAcquire(containersDirectory, id, wait: true)!;

    /// <summary>The lock, or null when someone holds it and <paramref name="wait"/> is false.</summary>
    public static ContainerLock? TryAcquire(string containersDirectory, string id, bool wait)
    {
        var path = PathFor(containersDirectory, id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_NOFOLLOW, 0b110_000_000);
        try
        {
            var operation = Libc.LOCK_EX | (wait ? 0 : Libc.LOCK_NB);
            if (Errors.RetryOnEintr(() => Libc.flock(fd.Fd, operation)) < 0)
            {
                if (!wait && Errors.LastErrno == Errors.EAGAIN)
                {
                    fd.Dispose();
                    return null;
                }
                throw new SyscallException("flock", Errors.LastErrno, path);
            }
            return new ContainerLock(fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>Whether some process holds the container's lock now (a create in progress, for one).</summary>
    public static bool IsHeld(string containersDirectory, string id)
    {
        using var probe = TryAcquire(containersDirectory, id, wait: false);
        return probe is null;
    }

    public void Dispose() => fd.Dispose();
}
