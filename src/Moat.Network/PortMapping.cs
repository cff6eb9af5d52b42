using System.Globalization;
using System.Net;

namespace Moat.Network;

/// <summary>One published port: HOST_IP:HOST_PORT on the host forwarded to CONTAINER_PORT of the container (DNAT).</summary>
public sealed record PortMapping
{
    /// <summary>0.0.0.0: every address of the host.</summary>
    public string HostIp { get; init; } = "0.0.0.0";
    /// <summary>0 until the engine picks a free one (for -P and `-p CONTAINER`).</summary>
    public int HostPort { get; init; }
    public required int ContainerPort { get; init; }
    /// <summary>tcp or udp.</summary>
    public string Protocol { get; init; } = "tcp";

    /// <summary>As `moat port` and ContainerSettings.Ports have it: HOST_IP:HOST_PORT:CONTAINER_PORT/PROTO.</summary>
    public override string ToString() => $"{HostIp}:{HostPort}:{ContainerPort}/{Protocol}";

    /// <summary>
    /// docker's -p grammar: CONTAINER, HOST:CONTAINER, IP:HOST:CONTAINER, IP::CONTAINER, each port a number or a
    /// range (8080-8081:80-81), with /tcp or /udp. A range maps one to one (its lengths must agree, or the
    /// container side is one port).
    /// </summary>
    public static IReadOnlyList<PortMapping> Parse(string text)
    {
        var protocol = "tcp";
        var body = text;
        var slash = text.LastIndexOf('/');
        if (slash >= 0)
        {
            protocol = text[(slash + 1)..].ToLowerInvariant();
            body = text[..slash];
            if (protocol is not ("tcp" or "udp"))
                throw new NetworkException($"-p {text}: protocol \"{protocol}\" is not tcp or udp");
        }
        string hostIp = "0.0.0.0", hostPart = "", containerPart;
        // IPv6 host addresses come in brackets: [::1]:8080:80.
        if (body.StartsWith('['))
        {
            var close = body.IndexOf(']');
            if (close < 0) throw new NetworkException($"-p {text}: the host address has no closing ']'");
            hostIp = body[1..close];
            body = body[(close + 1)..].TrimStart(':');
            var parts = body.Split(':');
            (hostPart, containerPart) = parts.Length == 2 ? (parts[0], parts[1]) : throw new NetworkException($"-p {text} is not [IP]:HOST:CONTAINER");
        }
        else
        {
            var parts = body.Split(':');
            switch (parts.Length)
            {
                case 1: containerPart = parts[0]; break;
                case 2: hostPart = parts[0]; containerPart = parts[1]; break;
                case 3: hostIp = parts[0]; hostPart = parts[1]; containerPart = parts[2]; break;
                default: throw new NetworkException($"-p {text} is not CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER");
            }
        }
        if (!IPAddress.TryParse(hostIp, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw new NetworkException($"-p {text}: \"{hostIp}\" is not an IPv4 address (IPv6 publishing is not supported)");
        var (cFirst, cLast) = Range(containerPart, text);
        var (hFirst, hLast) = hostPart.Length == 0 ? (0, 0) : Range(hostPart, text);
        var count = cLast - cFirst + 1;
        if (hostPart.Length > 0 && hLast - hFirst + 1 != count && count != 1)
            throw new NetworkException($"-p {text}: the host range and the container range differ in length");
        var mappings = new List<PortMapping>();
        if (hostPart.Length > 0 && count == 1 && hLast > hFirst)
        {
            // docker: HOST range to one container port means "one of these": the first is taken.
            mappings.Add(new PortMapping { HostIp = ip.ToString(), HostPort = hFirst, ContainerPort = cFirst, Protocol = protocol });
            return mappings;
        }
        for (var i = 0; i < count; i++)
            mappings.Add(new PortMapping { HostIp = ip.ToString(), HostPort = hostPart.Length == 0 ? 0 : hFirst + i, ContainerPort = cFirst + i, Protocol = protocol });
        return mappings;
    }

    static (int First, int Last) Range(string text, string whole)
    {
        var dash = text.IndexOf('-');
        var first = Port(dash < 0 ? text : text[..dash], whole);
        var last = dash < 0 ? first : Port(text[(dash + 1)..], whole);
        return last >= first ? (first, last) : throw new NetworkException($"-p {whole}: range {text} ends before it starts");
    }

    static int Port(string text, string whole) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new NetworkException($"-p {whole}: \"{text}\" is not a port number (1-65535)");
}
