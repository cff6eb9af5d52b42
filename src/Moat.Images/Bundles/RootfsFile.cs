using Moat.Interop;

namespace Moat.Images.Bundles;

/// <summary>
/// Reads a small file of the image's own, such as /etc/passwd, from a rootfs directory. The path is
/// resolved with openat2(RESOLVE_IN_ROOT): a symlink in the image, even one pointing at "/etc/passwd"
/// or "../../..", resolves as if the rootfs were "/", so the host's file is never read instead.
/// </summary>
internal static class RootfsFile
{
    const ulong Resolve = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;
    const uint S_IFMT = 0xF000, S_IFREG = 0x8000;

    /// <summary>Beyond this, a passwd or group file is not one to parse (and not one to hold in memory).</summary>
    public const int MaxBytes = 16 << 20;

    /// <summary>The file's text, or null when it (or a directory on its way) does not exist.</summary>
    public static string? TryReadText(string rootfs, string pathInImage)
    {
        using var root = OpenRoot(rootfs);
        var relative = pathInImage.TrimStart('/');
        // O_NONBLOCK: a FIFO planted at the path must not hang the engine; it is refused below.
        var fd = Libc.openat2(root.Fd, relative, (ulong)(Libc.O_RDONLY | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_CLOEXEC), 0, Resolve);
        if (fd < 0)
        {
            var errno = Errors.LastErrno;
            if (errno is Errors.ENOENT or Errors.ENOTDIR)
                return null;
            throw new BundleException($"cannot open {pathInImage} in the image's root filesystem {rootfs}: {Errors.Describe(errno)}");
        }
        using var file = new FileDescriptor(fd);
        var mode = Libc.TryStatMode($"/proc/self/fd/{file.Fd}");
        if (mode is not { } m || (m & S_IFMT) != S_IFREG)
            throw new BundleException($"{pathInImage} in the image's root filesystem is not a regular file");
        return System.Text.Encoding.UTF8.GetString(ReadAll(file, pathInImage));
    }

    static FileDescriptor OpenRoot(string rootfs)
    {
        var fd = Libc.open(rootfs, Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            throw new BundleException($"the root filesystem {rootfs} cannot be opened: {Errors.Describe(Errors.LastErrno)}");
        return new FileDescriptor(fd);
    }

    static byte[] ReadAll(FileDescriptor file, string what)
    {
        var buffer = new byte[8192];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxBytes)
                    throw new BundleException($"{what} in the image is larger than {MaxBytes >> 20} MiB: refused");
                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxBytes));
            }
            var n = Libc.Read(file.Fd, buffer.AsSpan(length), what);
            if (n == 0)
                return buffer.AsSpan(0, length).ToArray();
            length += n;
        }
    }
}
