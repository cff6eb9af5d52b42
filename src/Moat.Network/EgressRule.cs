using System.Globalization;
using Moat.Network.Addressing;

namespace Moat.Network;

/// <summary>One destination a container with --egress allow=... may open connections to: a prefix and a port (0: any port).</summary>
public sealed record EgressRule(string Cidr, int Port)
{
    /// <summary>
    /// `--egress deny` (nothing) or `--egress allow=CIDR[:PORT],...`; `--egress allow` alone or absent: no policy (null).
    /// IPv6 prefixes are written in brackets: [fd00::/8]:443.
    /// </summary>
    public static List<EgressRule>? Parse(string? text)
    {
        if (text is null or "allow" or "")
            return null;
        if (text == "deny")
            return [];
        if (!text.StartsWith("allow=", StringComparison.Ordinal))
            throw new NetworkException($"--egress \"{text}\" is not deny or allow=CIDR:PORT,...");
        var rules = new List<EgressRule>();
        foreach (var item in text["allow=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string cidr, port = "";
            if (item.StartsWith('['))
            {
                var close = item.IndexOf(']');
                if (close < 0) throw new NetworkException($"--egress: \"{item}\" has no closing ']'");
                cidr = item[1..close];
                port = item[(close + 1)..].TrimStart(':');
            }
            else
            {
                var colon = item.IndexOf(':');
                (cidr, port) = colon < 0 ? (item, "") : (item[..colon], item[(colon + 1)..]);
            }
            if (!cidr.Contains('/'))
                cidr += cidr.Contains(':') ? "/128" : "/32";
            var subnet = ParsePrefix(cidr, item);
            var number = 0;
            if (port.Length > 0 && !(int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number is > 0 and < 65536))
                throw new NetworkException($"--egress: \"{port}\" in \"{item}\" is not a port number");
            rules.Add(new EgressRule(subnet, number));
        }
        return rules;
    }

    static string ParsePrefix(string cidr, string item)
    {
        var slash = cidr.IndexOf('/');
        if (!System.Net.IPAddress.TryParse(cidr[..slash], out var address) || !int.TryParse(cidr[(slash + 1)..], out var length)
            || length < 0 || length > (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32))
            throw new NetworkException($"--egress: \"{item}\" is not CIDR[:PORT]");
        var bits = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        var value = IpSubnet.ToNumber(address);
        var mask = length == 0 ? UInt128.Zero : (UInt128.MaxValue << (128 - length)) >> (128 - bits);
        return $"{IpSubnet.FromNumber(value & mask, address.AddressFamily)}/{length}";
    }

    public bool IsV6 => Cidr.Contains(':');
}
