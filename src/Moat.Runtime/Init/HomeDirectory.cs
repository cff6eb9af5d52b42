using Moat.Interop;

namespace Moat.Runtime.Init;

/// <summary>
/// HOME for the container's process when process.env has none, as runc and crun set it: the home
/// directory of the process's uid in the container's /etc/passwd, or "/" when the uid is not
/// listed or there is no readable passwd file.
/// </summary>
public static class HomeDirectory
{
    public const string Fallback = "/";

    /// <summary>More than any real passwd file; a link to /dev/zero in an image must not take the init's memory.</summary>
    public const int MaxPasswdBytes = 4 << 20;

    /// <summary>
    /// <paramref name="env"/> itself when it sets HOME (an empty value included, as crun), else a
    /// copy with HOME appended; <paramref name="readPasswd"/> is called only in the second case.
    /// </summary>
    public static List<string> WithHome(List<string>? env, uint uid, Func<byte[]?> readPasswd)
    {
        env ??= [];
        foreach (var variable in env)
            if (variable.StartsWith("HOME=", StringComparison.Ordinal))
                return env;
        var passwd = readPasswd();
        var home = passwd is null ? null : Find(System.Text.Encoding.UTF8.GetString(passwd), uid);
        return [.. env, "HOME=" + (home ?? Fallback)];
    }

    /// <summary>The home directory of <paramref name="uid"/> in passwd(5) text (<see cref="Passwd.Find"/>); null when there is none or it is empty.</summary>
    public static string? Find(string passwd, uint uid) =>
        Passwd.Find(passwd, uid) is { Home.Length: > 0 } entry ? entry.Home : null;

    /// <summary>
    /// /etc/passwd of the root the process runs in (the container's, after pivot_root or chroot),
    /// or null when it cannot be read. Opened non-blocking, so that a FIFO in its place reads as
    /// empty instead of holding create forever, and read to at most <see cref="MaxPasswdBytes"/>.
    /// </summary>
    public static unsafe byte[]? ReadPasswd(string path = "/etc/passwd")
    {
        int fd;
        do
            fd = Libc.open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_NOCTTY | Libc.O_CLOEXEC, 0);
        while (fd < 0 && Errors.LastErrno == Errors.EINTR);
        if (fd < 0)
            return null;
        try
        {
            var buffer = new byte[4096];
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length >= MaxPasswdBytes)
                        return null;
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                nint n;
                fixed (byte* p = buffer)
                    n = Libc.read(fd, p + length, buffer.Length - length);
                if (n < 0 && Errors.LastErrno == Errors.EINTR)
                    continue;
                if (n < 0)
                    return null;
                if (n == 0)
                    return buffer[..length];
                length += (int)n;
            }
        }
        finally
        {
            Libc.close(fd);
        }
    }
}
