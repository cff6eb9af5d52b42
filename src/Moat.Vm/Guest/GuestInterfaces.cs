using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Moat.Interop;
using Moat.Runtime;
using Moat.Vm.Protocol;

namespace Moat.Vm.Guest;

/// <summary>
/// The guest's side of networking: each virtio-net NIC (found by the MAC the host gave QEMU) takes
/// its veth's name, MTU, addresses and routes, set through rtnetlink (the initramfs has no ip). The
/// container then runs in the guest's network namespace, where these interfaces are.
/// </summary>
static class GuestInterfaces
{
    const ushort RTM_NEWLINK = 16, RTM_NEWADDR = 20, RTM_NEWROUTE = 24;
    const ushort NLM_F_REQUEST = 1, NLM_F_ACK = 4, NLM_F_REPLACE = 0x100, NLM_F_CREATE = 0x400;
    const ushort IFLA_IFNAME = 3, IFLA_MTU = 4, IFA_ADDRESS = 1, IFA_LOCAL = 2, RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5;
    const byte IFA_F_NODAD = 0x02, RT_TABLE_MAIN = 254, RTPROT_BOOT = 3, RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RTN_UNICAST = 1;
    const uint IFF_UP = 1;

    public static void Configure(NetworkRequest request)
    {
        Libc.SetInterfaceUp("lo");
        foreach (var nic in request.Interfaces)
        {
            var index = IndexOf(nic.Mac) ?? throw new RuntimeException($"the guest has no network device with MAC {nic.Mac} (for {nic.Name})");
            // Renaming needs the link down, which a NIC the agent has not touched is.
            Link(index, nic.Name, nic.Mtu, up: false);
            foreach (var address in nic.Addresses)
                Address(index, address);
            Link(index, null, 0, up: true);
            foreach (var route in nic.Routes)
                Route(index, route);
        }
    }

    /// <summary>The interface index whose MAC is <paramref name="mac"/> (sysfs: the agent's own namespace is the guest's).</summary>
    static int? IndexOf(string mac)
    {
        foreach (var dir in Directory.EnumerateDirectories("/sys/class/net"))
            if (string.Equals(Libc.TryReadText(Path.Combine(dir, "address"))?.Trim(), mac, StringComparison.OrdinalIgnoreCase)
                && int.TryParse(Libc.TryReadText(Path.Combine(dir, "ifindex"))?.Trim(), out var index))
                return index;
        return null;
    }

    static void Link(int index, string? name, uint mtu, bool up)
    {
        var m = new Message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        // struct ifinfomsg: family, pad, type, index, flags, change.
        m.U8(0).U8(0).U16(0).U32((uint)index).U32(up ? IFF_UP : 0).U32(up ? IFF_UP : 0);
        if (name is not null)
            m.Attribute(IFLA_IFNAME, [.. System.Text.Encoding.ASCII.GetBytes(name), 0]);
        if (mtu > 0)
            m.Attribute(IFLA_MTU, BitConverter.GetBytes(mtu));
        Libc.RouteNetlinkRequest(m.ToArray(), $"configure network device {name ?? index.ToString()}");
    }

    static (IPAddress Address, int Prefix) Prefix(string text)
    {
        var slash = text.IndexOf('/');
        var address = IPAddress.Parse(slash < 0 ? text : text[..slash]);
        var prefix = slash < 0 ? (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128) : int.Parse(text[(slash + 1)..]);
        return (address, prefix);
    }

    static byte Family(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? (byte)2 : (byte)10;

    static void Address(int index, string text)
    {
        var (address, prefix) = Prefix(text);
        var m = new Message(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
        // struct ifaddrmsg: family, prefixlen, flags, scope, index. No duplicate detection: the host's veth did it.
        m.U8(Family(address)).U8((byte)prefix).U8(IFA_F_NODAD).U8(RT_SCOPE_UNIVERSE).U32((uint)index);
        m.Attribute(IFA_LOCAL, address.GetAddressBytes());
        m.Attribute(IFA_ADDRESS, address.GetAddressBytes());
        Libc.RouteNetlinkRequest(m.ToArray(), $"add address {text}");
    }

    static void Route(int index, GuestRoute route)
    {
        var (destination, prefix) = Prefix(route.Destination);
        var gateway = route.Gateway.Length > 0 ? IPAddress.Parse(route.Gateway) : null;
        var m = new Message(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
        m.U8(Family(destination)).U8((byte)prefix).U8(0).U8(0).U8(RT_TABLE_MAIN).U8(RTPROT_BOOT)
            .U8(gateway is null && destination.AddressFamily == AddressFamily.InterNetwork ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE).U8(RTN_UNICAST).U32(0);
        if (prefix > 0)
            m.Attribute(RTA_DST, destination.GetAddressBytes());
        if (gateway is not null)
            m.Attribute(RTA_GATEWAY, gateway.GetAddressBytes());
        m.Attribute(RTA_OIF, BitConverter.GetBytes(index));
        Libc.RouteNetlinkRequest(m.ToArray(), $"add route {route.Destination}{(gateway is null ? "" : $" via {gateway}")}");
    }

    /// <summary>A netlink message: the 16-byte header (length filled in at the end), the family's struct, 4-aligned attributes.</summary>
    sealed class Message
    {
        readonly List<byte> bytes = [];

        public Message(ushort type, ushort flags)
        {
            U32(0).U16(type).U16(flags).U32(1).U32(0);
        }

        public Message U8(byte value)
        {
            bytes.Add(value);
            return this;
        }

        public Message U16(ushort value)
        {
            Span<byte> b = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(b, value);
            bytes.AddRange(b);
            return this;
        }

        public Message U32(uint value)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
            bytes.AddRange(b);
            return this;
        }

        public Message Attribute(ushort type, byte[] data)
        {
            U16((ushort)(4 + data.Length)).U16(type);
            bytes.AddRange(data);
            while (bytes.Count % 4 != 0)
                bytes.Add(0);
            return this;
        }

        public byte[] ToArray()
        {
            var array = bytes.ToArray();
            BinaryPrimitives.WriteUInt32LittleEndian(array, (uint)array.Length);
            return array;
        }
    }
}
