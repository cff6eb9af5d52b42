using System.Net;
using System.Text;
using Moat.Network.Store;

namespace Moat.Network.HostFiles;

/// <summary>
/// A container's /etc/hosts and /etc/resolv.conf, kept in its files directory and bind-mounted over the
/// image's. /etc/hosts names the container and every other member of its networks, and is rewritten when
/// one joins or leaves: in place (truncate and write), because a rename would leave the container's bind
/// mount on the old inode.
/// </summary>
public static class ContainerHostFiles
{
    public const string Hosts = "hosts", ResolvConf = "resolv.conf";

    public static string Render(string containerId, IReadOnlyList<EndpointRecord> all, IReadOnlyList<(string Name, string Address)> extra)
    {
        var text = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        var mine = all.Where(e => e.Container == containerId).ToList();
        foreach (var e in mine)
            text.Append($"{e.Address}\t{Names(e)}\n");
        var networks = mine.Select(e => e.Network).ToHashSet(StringComparer.Ordinal);
        foreach (var peer in all.Where(e => e.Container != containerId && networks.Contains(e.Network)).OrderBy(e => e.Network, StringComparer.Ordinal).ThenBy(e => e.Address, StringComparer.Ordinal))
            text.Append($"{peer.Address}\t{Names(peer)}\n");
        foreach (var (name, address) in extra)
            text.Append($"{address}\t{name}\n");
        return text.ToString();
    }

    static string Names(EndpointRecord e) =>
        e.Hostname == e.ContainerName || e.Hostname.Length == 0 ? e.ContainerName : $"{e.ContainerName} {e.Hostname}";

    /// <summary>The host's resolv.conf minus nameservers on loopback (they answer in the host's namespace, not the container's), with --dns/--dns-search/--dns-option applied.</summary>
    public static string RenderResolvConf(string? hostText, IReadOnlyList<string> dns, IReadOnlyList<string> search, IReadOnlyList<string> options)
    {
        var lines = (hostText ?? "").Split('\n');
        var servers = dns.Count > 0 ? dns.ToList() : lines.Select(l => l.Trim().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 2 && f[0] == "nameserver" && !IsLoopback(f[1])).Select(f => f[1]).ToList();
        var searchLine = search.Count > 0 ? "search " + string.Join(' ', search) : lines.Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("search ", StringComparison.Ordinal) || l.StartsWith("domain ", StringComparison.Ordinal));
        var optionLine = options.Count > 0 ? "options " + string.Join(' ', options) : lines.Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("options ", StringComparison.Ordinal));
        var text = new StringBuilder("# Written by Moat: the host's resolvers, less those on loopback.\n");
        if (searchLine is not null) text.Append(searchLine).Append('\n');
        foreach (var s in servers) text.Append("nameserver ").Append(s).Append('\n');
        if (optionLine is not null) text.Append(optionLine).Append('\n');
        return text.ToString();
    }

    static bool IsLoopback(string address) => IPAddress.TryParse(address.Split('%')[0], out var ip) && IPAddress.IsLoopback(ip);

    /// <summary>Creates or rewrites a file in place (same inode), then flushes it to disk.</summary>
    public static void WriteInPlace(string path, string content)
    {
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
        var bytes = Encoding.UTF8.GetBytes(content);
        stream.SetLength(0);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }
}
