namespace Moat.Interop;

/// <summary>TUN/TAP devices: a tap opened through /dev/net/tun (linux/if_tun.h), for a VMM to pass frames through.</summary>
public static unsafe partial class Libc
{
    const ulong TUNSETIFF = 0x400454ca;
    const short IFF_TAP = 0x0002, IFF_NO_PI = 0x1000;

    /// <summary>
    /// Creates the tap interface <paramref name="name"/> in the calling thread's network namespace and
    /// returns its queue's descriptor (close-on-exec). The tap is not persistent: it disappears with
    /// the last descriptor, so a VMM that dies takes it along. Frames carry no packet-information header.
    /// </summary>
    public static FileDescriptor OpenTap(string name)
    {
        var request = new InterfaceRequest();
        var encoded = System.Text.Encoding.ASCII.GetBytes(name);
        if (encoded.Length == 0 || encoded.Length >= InterfaceNameSize)
            throw new ArgumentException($"interface name \"{name}\" is not 1 to 15 characters", nameof(name));
        encoded.CopyTo(new Span<byte>(request.Name, InterfaceNameSize));
        request.Flags = IFF_TAP | IFF_NO_PI;
        var tun = Open("/dev/net/tun", O_RDWR);
        try
        {
            Errors.Check(ioctl(tun.Fd, TUNSETIFF, (nint)(&request)), "TUNSETIFF", name);
            return tun;
        }
        catch
        {
            tun.Dispose();
            throw;
        }
    }
}
