using System.Net;
using System.Net.Sockets;

namespace Moat.Network.Addressing;

/// <summary>
/// An IPv4 or IPv6 prefix (10.89.0.0/24, fd00::/64) with host arithmetic on a 128-bit integer, so one
/// code path serves both families. Host indexes count from the network address (index 1 is the usual gateway).
/// </summary>
public readonly record struct IpSubnet(IPAddress Network, int PrefixLength)
{
    public bool IsV6 => Network.AddressFamily == AddressFamily.InterNetworkV6;
    int Bits => IsV6 ? 128 : 32;

    public static IpSubnet Parse(string text, string what = "subnet")
    {
        var slash = text.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(text[..slash], out var address) || !int.TryParse(text[(slash + 1)..], out var prefix))
            throw new NetworkException($"{what} \"{text}\" is not an address/prefix such as 10.89.0.0/24");
        var bits = address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        if (prefix < 8 || prefix > bits - 2)
            throw new NetworkException($"{what} \"{text}\" has a prefix length outside 8 to {bits - 2}");
        var value = ToNumber(address) & Mask(prefix, bits);
        return new IpSubnet(FromNumber(value, address.AddressFamily), prefix);
    }

    static UInt128 Mask(int prefix, int bits) => prefix == 0 ? 0 : (UInt128.MaxValue << (128 - prefix)) >> (128 - bits);

    public static UInt128 ToNumber(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        UInt128 value = 0;
        foreach (var b in bytes) value = (value << 8) | b;
        return value;
    }

    public static IPAddress FromNumber(UInt128 value, AddressFamily family)
    {
        var bytes = new byte[family == AddressFamily.InterNetworkV6 ? 16 : 4];
        for (var i = bytes.Length - 1; i >= 0; i--) { bytes[i] = (byte)(value & 0xff); value >>= 8; }
        return new IPAddress(bytes);
    }

    /// <summary>Number of addresses in the prefix (capped: a /64 has more than anyone allocates).</summary>
    public UInt128 Size => UInt128.One << (Bits - PrefixLength);

    public IPAddress At(UInt128 index) => FromNumber(ToNumber(Network) + index, Network.AddressFamily);

    public bool Contains(IPAddress address) =>
        address.AddressFamily == Network.AddressFamily && (ToNumber(address) & Mask(PrefixLength, Bits)) == ToNumber(Network);

    public bool Overlaps(IpSubnet other) =>
        other.IsV6 == IsV6 && (Contains(other.Network) || other.Contains(Network));

    /// <summary>The first and last usable host indexes: IPv4 leaves out the network and broadcast addresses.</summary>
    public (UInt128 First, UInt128 Last) HostRange => (1, IsV6 ? (Size > 65536 ? 65535 : Size - 1) : Size - 2);

    public override string ToString() => $"{Network}/{PrefixLength}";
}
