using Moat.Interop;

namespace Moat.Runtime.Create;

/// <summary>
/// The moat binary to exec the init stage from, in a form no one can write, so that a container that
/// reaches /proc/PID/exe cannot overwrite the binary on the host (CVE-2019-5736).
/// <para>
/// First choice: the binary seen through a read-only overlayfs that is mounted nowhere (fsopen and
/// fsmount; its only reference is the returned descriptor). Writing to it fails with EROFS and there
/// is no upper layer to copy up into, and it costs a few syscalls with the page cache shared.
/// Fallback (no overlayfs, or a path overlayfs cannot take): a sealed memfd copy, which costs a copy
/// of the whole binary (about 4 ms for 9 MB) on every create and exec.
/// </para>
/// </summary>
public static class SealedBinary
{
    /// <param name="emptyDirectory">
    /// An empty directory of the runtime's own: overlayfs without an upper layer needs two lower
    /// layers, and the binary's directory may not be given twice.
    /// </param>
    public static FileDescriptor Open(string emptyDirectory, string path = "/proc/self/exe")
    {
        var binary = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
        return TryOverlay(binary, emptyDirectory) ?? MemfdCopy(path);
    }

    static FileDescriptor? TryOverlay(string binary, string emptyDirectory)
    {
        var directory = Path.GetDirectoryName(binary);
        // ':' separates layers and '\' escapes in lowerdir; such paths take the fallback.
        if (directory is null || $"{directory}{emptyDirectory}".AsSpan().IndexOfAny(':', '\\') >= 0
            || directory.StartsWith(emptyDirectory, StringComparison.Ordinal) || emptyDirectory.StartsWith(directory + "/", StringComparison.Ordinal))
            return null;
        try
        {
            Directory.CreateDirectory(emptyDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var mount = Libc.MountDetached("overlay", [("lowerdir", $"{directory}:{emptyDirectory}")],
                Libc.MOUNT_ATTR_RDONLY | Libc.MOUNT_ATTR_NODEV | Libc.MOUNT_ATTR_NOSUID);
            var fd = Libc.openat(mount.Fd, Path.GetFileName(binary), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
            return fd < 0 ? null : new FileDescriptor(fd);
        }
        catch (Exception ex) when (ex is SyscallException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    static unsafe FileDescriptor MemfdCopy(string path)
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
