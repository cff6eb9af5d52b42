using Moat.Oci;

namespace Moat.Runtime.Rootfs;

/// <summary>The device nodes and /dev links every container gets, as runc and crun create them.</summary>
public static class Devices
{
    public static IReadOnlyList<LinuxDevice> Defaults { get; } =
    [
        Char("/dev/null", 1, 3), Char("/dev/zero", 1, 5), Char("/dev/full", 1, 7),
        Char("/dev/random", 1, 8), Char("/dev/urandom", 1, 9), Char("/dev/tty", 5, 0),
    ];

    static LinuxDevice Char(string path, long major, long minor) =>
        new() { Type = "c", Path = path, Major = major, Minor = minor, FileMode = 0x1b6 /* 0666 */, Uid = 0, Gid = 0 };

    public static IReadOnlyList<(string Link, string Target)> Links(bool hasKcore)
    {
        var links = new List<(string, string)>
        {
            ("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"),
            ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2"),
        };
        if (hasKcore)
            links.Add(("/dev/core", "/proc/kcore"));
        return links;
    }

    /// <summary>The type bits for mknod(2).</summary>
    public static uint TypeBits(string type) => type switch
    {
        "c" or "u" => Interop.Libc.S_IFCHR,
        "b" => Interop.Libc.S_IFBLK,
        "p" => Interop.Libc.S_IFIFO,
        _ => throw new RuntimeException($"unknown device type \"{type}\""),
    };

    /// <summary>makedev(3) as glibc encodes it.</summary>
    public static ulong MakeDev(long major, long minor)
    {
        var ma = (ulong)major;
        var mi = (ulong)minor;
        return ((ma & 0xfffff000UL) << 32) | ((ma & 0xfffUL) << 8) | ((mi & 0xffffff00UL) << 12) | (mi & 0xffUL);
    }
}
