namespace Moat.Sandbox.Policy;

/// <summary>
/// What a sandboxed workload may reach by name: paths it may read, write, not see at all, and
/// execute; where it may connect and which ports it may bind; and per-call overrides. The
/// supervisor decides every brokered call with it, and the Landlock ruleset is made from it.
/// Paths are absolute paths in the container's root; a path covers everything beneath it.
/// </summary>
public sealed class SandboxPolicy
{
    public List<string> Readable { get; set; } = [];
    public List<string> Writable { get; set; } = [];
    /// <summary>Not there at all: masked (linux.maskedPaths) and refused with ENOENT.</summary>
    public List<string> Hidden { get; set; } = [];
    public List<string> Executables { get; set; } = [];
    public List<NetworkRule> Connect { get; set; } = [];
    public List<PortRange> Bind { get; set; } = [];
    /// <summary>Per-call overrides by system call name: "deny" refuses it always; "allow" skips the path and address checks (the call is still performed by the supervisor, and Landlock still applies).</summary>
    public Dictionary<string, CallOverride> Calls { get; set; } = new(StringComparer.Ordinal);

    public enum Access { None, Read, Write }

    /// <summary>Whether a canonical path may be opened for reading, writing, or is hidden.</summary>
    public bool IsHidden(string path) => Covers(Hidden, path);

    public bool CanRead(string path) => !IsHidden(path) && (Covers(Readable, path) || Covers(Writable, path));

    public bool CanWrite(string path) => !IsHidden(path) && Covers(Writable, path);

    public bool CanExecute(string path) => !IsHidden(path) && Covers(Executables, path) && (Covers(Readable, path) || Covers(Writable, path));

    public bool CanConnect(System.Net.IPAddress address, int port) => Connect.Any(r => r.Matches(address, port));

    public bool CanBind(int port) => Bind.Any(r => r.Contains(port));

    public CallOverride OverrideFor(string call) => Calls.TryGetValue(call, out var o) ? o : CallOverride.None;

    /// <summary>Whether <paramref name="path"/> is one of <paramref name="roots"/> or beneath one (component-wise: /tmp covers /tmp/x, not /tmpx).</summary>
    public static bool Covers(List<string> roots, string path)
    {
        foreach (var root in roots)
        {
            if (root == "/")
                return true;
            if (path.StartsWith(root, StringComparison.Ordinal) && (path.Length == root.Length || path[root.Length] == '/'))
                return true;
        }
        return false;
    }

    /// <summary>The policy's checks: absolute, normalised paths, known overrides.</summary>
    public void Validate()
    {
        foreach (var (name, list) in new[] { ("readable", Readable), ("writable", Writable), ("hidden", Hidden), ("executables", Executables) })
        {
            for (var i = 0; i < list.Count; i++)
            {
                var p = list[i];
                if (!p.StartsWith('/'))
                    throw new SandboxPolicyException($"{name}[{i}]: \"{p}\" is not an absolute path");
                list[i] = Normalize(p) ?? throw new SandboxPolicyException($"{name}[{i}]: \"{p}\" leaves the root with \"..\"");
            }
        }
    }

    /// <summary>"/a/./b//c/../d/" → "/a/b/d"; null when ".." climbs above the root.</summary>
    public static string? Normalize(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".")
                continue;
            if (part == "..")
            {
                if (parts.Count == 0)
                    return null;
                parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }
}

public enum CallOverride { None, Allow, Deny }

/// <summary>A port or a range of ports ("8080", "9000-9100", "*").</summary>
public readonly record struct PortRange(int First, int Last)
{
    public static readonly PortRange Any = new(0, 65535);

    public bool Contains(int port) => port >= First && port <= Last;

    public bool IsSingle => First == Last;

    public static PortRange Parse(string text, string where)
    {
        if (text == "*")
            return Any;
        var dash = text.IndexOf('-');
        if (dash < 0)
            return new PortRange(Port(text, where), Port(text, where));
        var first = Port(text[..dash], where);
        var last = Port(text[(dash + 1)..], where);
        if (last < first)
            throw new SandboxPolicyException($"{where}: the range \"{text}\" ends before it starts");
        return new PortRange(first, last);
    }

    static int Port(string text, string where) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535
            ? port
            : throw new SandboxPolicyException($"{where}: \"{text}\" is not a port (0-65535) or a range of ports");

    public override string ToString() => this == Any ? "*" : IsSingle ? First.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{First}-{Last}";
}

/// <summary>An outbound connection rule: "CIDR:port", "CIDR:first-last", "CIDR:*"; IPv6 as "[CIDR]:port".</summary>
public sealed record NetworkRule(System.Net.IPNetwork Network, PortRange Ports)
{
    public bool Matches(System.Net.IPAddress address, int port)
    {
        if (address.IsIPv4MappedToIPv6 && Network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            address = address.MapToIPv4();
        return Network.Contains(address) && Ports.Contains(port);
    }

    public static NetworkRule Parse(string text, string where)
    {
        string cidr, ports;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
                throw new SandboxPolicyException($"{where}: \"{text}\" is not [CIDR]:port");
            cidr = text[1..close];
            ports = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
                throw new SandboxPolicyException($"{where}: \"{text}\" is not CIDR:port (give a port, a range or *)");
            cidr = text[..colon];
            ports = text[(colon + 1)..];
        }
        if (!cidr.Contains('/'))
            cidr += System.Net.IPAddress.TryParse(cidr, out var single) && single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "/128" : "/32";
        if (!System.Net.IPNetwork.TryParse(cidr, out var network))
            throw new SandboxPolicyException($"{where}: \"{cidr}\" is not an address or a CIDR block");
        return new NetworkRule(network, PortRange.Parse(ports, where));
    }

    public override string ToString() =>
        Network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Network}]:{Ports}" : $"{Network}:{Ports}";
}

public sealed class SandboxPolicyException(string message) : Exception(message);
