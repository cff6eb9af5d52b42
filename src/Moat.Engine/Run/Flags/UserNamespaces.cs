using System.Globalization;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Engine.Run.Flags;

/// <summary>
/// `--userns`: host (no user namespace), auto[:size=N] (a free range of host ids, 65536 by default, from
/// /etc/subuid and /etc/subgid of the `containers` user as podman has it, or else from a fixed base far
/// above ordinary accounts), keep-id (rootless only: your own uid keeps its number inside).
/// </summary>
public static class UserNamespaces
{
    public const uint DefaultSize = 65536;
    /// <summary>Where ranges are taken from when /etc/subuid has no `containers` entry: 2^30, far above login accounts and podman's 100000-based ranges.</summary>
    public const uint FallbackBase = 1u << 30;
    /// <summary>How many ids the fallback may hand out: up to 2^31, below the ids many tools read as negative.</summary>
    public const uint FallbackLength = 1u << 30;
    public const string SubordinateUser = "containers";

    /// <summary>The environment variable that turns the default user namespace off for a host ("host").</summary>
    public const string DefaultVariable = "MOAT_USERNS";

    /// <summary>
    /// Whether a root `moat run` without --userns gets a user namespace of its own (auto): yes, unless the
    /// container asks for what a user namespace would take away or the host cannot give it idmapped
    /// image layers. Each "no" is a case docker's userns-remap also leaves out: --privileged, a host
    /// namespace, the vm tier (its guest sees the host's ids), NET_ADMIN or net.* sysctls on a network
    /// namespace the engine made (owned by the host's user namespace, so the container's root could
    /// not use them).
    /// </summary>
    public static bool ByDefault(uint euid, Version kernel, string? setting, bool privileged, IReadOnlyCollection<string> hostNamespaces,
        string? isolation, IEnumerable<string> capAdd, IEnumerable<string> sysctlKeys, string? network)
    {
        if (euid != 0 || setting is "host" || kernel < IdmappedLayersSince || privileged || hostNamespaces.Count > 0 || isolation == "vm")
            return false;
        if (capAdd.Any(c => c.ToUpperInvariant() is "ALL" or "NET_ADMIN" or "CAP_NET_ADMIN"))
            return false;
        return network == "none" || !sysctlKeys.Any(k => k.StartsWith("net.", StringComparison.Ordinal));
    }

    /// <summary>Linux 6.13: overlay takes its layers as descriptors, so they can be idmapped mounts.</summary>
    public static readonly Version IdmappedLayersSince = new(6, 13);

    public sealed record Mappings(IReadOnlyList<LinuxIdMapping> Uids, IReadOnlyList<LinuxIdMapping> Gids);

    /// <summary>A host id range (start, length) already given to some container.</summary>
    public readonly record struct Range(uint Start, uint Length)
    {
        public uint End => Start + Length;
        public bool Overlaps(Range other) => Start < other.End && other.Start < End;
    }

    /// <summary>
    /// The mappings for a --userns value; null for host or an empty value. <paramref name="inUse"/> are host
    /// ranges other containers hold (auto picks around them); <paramref name="euid"/> and the files are
    /// parameters so tests need no root.
    /// </summary>
    public static Mappings? Parse(string text, IEnumerable<Range> inUse, uint euid, string? subuid, string? subgid, string? userName = null)
    {
        var colon = text.IndexOf(':');
        var mode = colon < 0 ? text : text[..colon];
        var options = colon < 0 ? "" : text[(colon + 1)..];
        switch (mode)
        {
            case "" or "host":
                if (options.Length > 0)
                    throw new RunFlagException($"--userns \"{text}\": host takes no options");
                return null;
            case "auto":
                var size = AutoSize(text, options);
                var uids = Pick(size, inUse, Ranges(subuid, SubordinateUser), "uids");
                var gids = Pick(size, inUse, Ranges(subgid, SubordinateUser), "gids");
                return new Mappings([new LinuxIdMapping { ContainerId = 0, HostId = uids, Size = size }], [new LinuxIdMapping { ContainerId = 0, HostId = gids, Size = size }]);
            case "keep-id":
                if (euid == 0)
                    throw new RunFlagException("--userns keep-id is only for rootless moat (it keeps your own uid inside); as root use --userns auto");
                var own = Ranges(subuid, userName ?? "").Sum(r => (long)r.Length);
                if (own == 0)
                    throw new RunFlagException($"--userns keep-id needs subordinate ids for {userName} in /etc/subuid and /etc/subgid");
                return new Mappings(KeepId(euid, (uint)own), KeepId(euid, (uint)own));
            case "private" or "nomap" or "ns":
                throw new RunFlagException($"--userns \"{text}\" is not supported (host, auto[:size=N], keep-id)");
            default:
                throw new RunFlagException($"--userns \"{text}\" is not host, auto[:size=N] or keep-id");
        }
    }

    static uint AutoSize(string text, string options)
    {
        var size = DefaultSize;
        foreach (var option in options.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!option.StartsWith("size=", StringComparison.Ordinal)
                || !uint.TryParse(option[5..], NumberStyles.None, CultureInfo.InvariantCulture, out size) || size == 0)
                throw new RunFlagException($"--userns \"{text}\": auto takes size=N (a positive number of ids)");
        }
        return size;
    }

    /// <summary>
    /// Podman's keep-id in the rootless namespace's terms: the user (0 there) becomes <paramref name="uid"/>,
    /// the ids below it and above it come from the subordinate range (1..N there).
    /// </summary>
    static List<LinuxIdMapping> KeepId(uint uid, uint subordinate)
    {
        var mappings = new List<LinuxIdMapping>();
        if (uid > 0)
            mappings.Add(new LinuxIdMapping { ContainerId = 0, HostId = 1, Size = Math.Min(uid, subordinate) });
        mappings.Add(new LinuxIdMapping { ContainerId = uid, HostId = 0, Size = 1 });
        if (subordinate > uid)
            mappings.Add(new LinuxIdMapping { ContainerId = uid + 1, HostId = uid + 1, Size = subordinate - uid });
        return mappings;
    }

    /// <summary>The first start in <paramref name="pool"/> (or the fallback) where <paramref name="size"/> ids overlap no range in use.</summary>
    public static uint Pick(uint size, IEnumerable<Range> inUse, List<Range> pool, string what)
    {
        var used = inUse.ToList();
        if (pool.Count == 0)
            pool = [new Range(FallbackBase, FallbackLength)];
        foreach (var range in pool)
        {
            var start = range.Start;
            while ((long)start + size <= range.End)
            {
                var candidate = new Range(start, size);
                var blocker = used.Where(u => u.Overlaps(candidate)).Select(u => (uint?)u.End).Max();
                if (blocker is null)
                    return start;
                start = blocker.Value;
            }
        }
        throw new RunFlagException($"--userns auto: no free range of {size} host {what} is left (give the `{SubordinateUser}` user more in /etc/sub{what[..^1]}, or remove containers)");
    }

    /// <summary>The ranges of one user in an /etc/subuid-format text (name:start:count lines).</summary>
    public static List<Range> Ranges(string? file, string user)
    {
        var ranges = new List<Range>();
        foreach (var line in (file ?? "").Split('\n'))
        {
            var fields = line.Trim().Split(':');
            if (fields.Length == 3 && fields[0] == user
                && uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0)
                ranges.Add(new Range(start, count));
        }
        return ranges;
    }

    /// <summary>
    /// Host uid ranges that running processes' user namespaces map (/proc/PID/uid_map lines other than the
    /// identity map): what other containers hold right now. The engine adds those of created containers.
    /// </summary>
    public static List<Range> InUseOnHost()
    {
        var ranges = new HashSet<Range>();
        // Processes of one user namespace (the host's holds most of them) share one map: it is read once per
        // namespace, told apart by the ns/user link (one readlink, where reading the map costs open, read and close).
        var namespaces = new HashSet<string>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !name.All(char.IsAsciiDigit))
                continue;
            // Straight readlink and read calls: FileInfo.LinkTarget and File.ReadAllText cost more than the
            // system calls themselves, ~70 times over on this host (0.6 ms of every `run`, 2026-12-03).
            // A process gone, or not ours to look at, gives no link: its map is tried all the same.
            var userNamespace = Libc.TryReadLink($"/proc/{name}/ns/user");
            if (userNamespace is not null && !namespaces.Add(userNamespace))
                continue;
            string? text;
            try
            {
                text = Libc.TryReadText($"/proc/{name}/uid_map");
            }
            catch (SyscallException)
            {
                text = null; // gone meanwhile, or not ours to read
            }
            if (text is null)
                continue;
            foreach (var (_, host, length) in IdMapText.Parse(text))
                if (length != uint.MaxValue)
                    ranges.Add(new Range(host, length));
        }
        return [.. ranges];
    }
}
