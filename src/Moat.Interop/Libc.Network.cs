using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Network interfaces: their flags, through the SIOCGIFFLAGS/SIOCSIFFLAGS ioctls on a datagram socket.</summary>
public static unsafe partial class Libc
{
    const int AF_INET = 2, AF_INET6 = 10, SOCK_DGRAM = 2, EAFNOSUPPORT = 97;
    const ulong SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914;
    const short IFF_UP = 0x1;
    const int InterfaceNameSize = 16;

    /// <summary>struct ifreq: the interface name, then a union of which only ifr_flags is used here (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    struct InterfaceRequest
    {
        public fixed byte Name[InterfaceNameSize];
        public short Flags;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial uint if_nametoindex(string name);

    /// <summary>
    /// Whether the calling thread's network namespace has an interface of that name. Not /sys/class/net:
    /// sysfs shows the namespace of whoever mounted it, which under nsenter is another one.
    /// </summary>
    public static bool InterfaceExists(string name) => if_nametoindex(name) != 0;

    /// <summary>
    /// Sets IFF_UP on the interface <paramref name="name"/> of the calling process's network
    /// namespace (needs CAP_NET_ADMIN there). Three calls and a close: a socket is only the handle
    /// the ioctls need; an IPv6-only kernel gets an AF_INET6 one.
    /// </summary>
    public static void SetInterfaceUp(string name)
    {
        var request = new InterfaceRequest();
        var encoded = System.Text.Encoding.ASCII.GetBytes(name);
        if (encoded.Length == 0 || encoded.Length >= InterfaceNameSize)
            throw new ArgumentException($"interface name \"{name}\" is not 1 to 15 characters", nameof(name));
        encoded.CopyTo(new Span<byte>(request.Name, InterfaceNameSize));

        var fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 && Errors.LastErrno == EAFNOSUPPORT)
            fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        Errors.Check(fd, "socket", "for interface flags");
        try
        {
            Errors.Check(ioctl(fd, SIOCGIFFLAGS, (nint)(&request)), "SIOCGIFFLAGS", name);
            if ((request.Flags & IFF_UP) != 0)
                return;
            request.Flags |= IFF_UP;
            Errors.Check(ioctl(fd, SIOCSIFFLAGS, (nint)(&request)), "SIOCSIFFLAGS (set up)", name);
        }
        finally
        {
            close(fd);
        }
    }
}
