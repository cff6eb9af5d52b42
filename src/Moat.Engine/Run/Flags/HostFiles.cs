using System.Net;
using System.Text.RegularExpressions;

namespace Moat.Engine.Run.Flags;

/// <summary>`--add-host NAME:IP` (also NAME=IP, [IPv6] in brackets, host-gateway) and `--dns IP`, for the container's /etc/hosts and /etc/resolv.conf.</summary>
public static partial class HostFiles
{
    /// <summary>docker's special address: the host as the container's network reaches it; the engine resolves it.</summary>
    public const string HostGateway = "host-gateway";

    [GeneratedRegex(@"^[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?$")]
    private static partial Regex HostName();

    public static HostEntry AddHost(string text)
    {
        // The first '=' or, failing one, the first ':' separates the name (an IPv6 address holds ':' too).
        var split = text.IndexOf('=');
        if (split < 0)
            split = text.IndexOf(':');
        if (split <= 0)
            throw new RunFlagException($"--add-host \"{text}\" is not NAME:IP");
        var name = text[..split];
        var address = text[(split + 1)..];
        if (address.StartsWith('[') && address.EndsWith(']'))
            address = address[1..^1];
        if (!HostName().IsMatch(name))
            throw new RunFlagException($"--add-host \"{text}\": \"{name}\" is not a host name");
        if (address != HostGateway && !IPAddress.TryParse(address, out _))
            throw new RunFlagException($"--add-host \"{text}\": \"{address}\" is not an IP address");
        return new HostEntry(name, address);
    }

    public static string Dns(string text) =>
        IPAddress.TryParse(text, out var address) ? address.ToString() : throw new RunFlagException($"--dns \"{text}\" is not an IP address");
}
