namespace Moat.Runtime.Cgroups;

/// <summary>One mounted cgroup hierarchy: a v1 hierarchy with its controllers, or the v2 unified one.</summary>
public sealed record CgroupHierarchy(string MountPoint, string Root, bool IsV2, IReadOnlyList<string> Controllers)
{
    /// <summary>Finds the cgroup mounts in /proc/self/mountinfo text.</summary>
    public static IReadOnlyList<CgroupHierarchy> Parse(string mountinfo)
    {
        var result = new List<CgroupHierarchy>();
        var lines = mountinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // A mount that a later one covers (same mount point) is not reachable by its path.
        var topmost = new Dictionary<string, int>();
        for (var i = 0; i < lines.Length; i++)
        {
            var f = lines[i].Split(' ');
            if (f.Length > 4)
                topmost[f[4]] = i;
        }
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (dash < 6 || fields.Length < dash + 4)
                continue;
            var fstype = fields[dash + 1];
            if (fstype is not ("cgroup" or "cgroup2") || topmost[fields[4]] != i)
                continue;
            var mountPoint = Unescape(fields[4]);
            var root = Unescape(fields[3]);
            if (fstype == "cgroup2")
            {
                result.Add(new CgroupHierarchy(mountPoint, root, true, []));
                continue;
            }
            var controllers = fields[dash + 3].Split(',')
                .Where(o => o is not ("rw" or "ro") && !o.StartsWith("clone_children", StringComparison.Ordinal)
                            && !o.StartsWith("release_agent", StringComparison.Ordinal) && o != "noprefix"
                            && o != "xattr" && o != "cpuset_v2_mode")
                .ToArray();
            if (controllers.Length > 0)
                result.Add(new CgroupHierarchy(mountPoint, root, false, controllers));
        }
        // A hierarchy mounted twice is one hierarchy: keep the first mount of each controller set.
        // (A loop, not GroupBy(..).Select(..): Select on a LINQ iterator is a generic virtual call,
        // which NativeAOT resolves through its type loader, mapping ~300 KB of metadata and tables
        // in every create.)
        var seen = new HashSet<(bool, string)>();
        var distinct = new List<CgroupHierarchy>(result.Count);
        foreach (var hierarchy in result)
            if (seen.Add((hierarchy.IsV2, string.Join(',', hierarchy.Controllers))))
                distinct.Add(hierarchy);
        return distinct;
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo (octal).</summary>
    static string Unescape(string s)
    {
        if (!s.Contains('\\'))
            return s;
        var result = new System.Text.StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && IsOctal(s, i + 1) && IsOctal(s, i + 2) && IsOctal(s, i + 3))
            {
                result.Append((char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0')));
                i += 3;
            }
            else
                result.Append(s[i]);
        }
        return result.ToString();
    }

    static bool IsOctal(string s, int i) => i < s.Length && s[i] is >= '0' and <= '7';

    public bool Has(string controller) => Controllers.Contains(controller);

    /// <summary>The directory for an absolute cgroup path in this hierarchy.</summary>
    public string DirectoryFor(string cgroupPath) => MountPoint.TrimEnd('/') + cgroupPath;
}

/// <summary>What the host offers: pure v2 (one unified hierarchy) or v1 (with an optional unified mount beside it).</summary>
public sealed class CgroupHost(IReadOnlyList<CgroupHierarchy> hierarchies)
{
    public IReadOnlyList<CgroupHierarchy> Hierarchies { get; } = hierarchies;

    public bool IsPureV2 => Hierarchies.Count > 0 && Hierarchies.All(h => h.IsV2);

    public CgroupHierarchy? Unified => Hierarchies.FirstOrDefault(h => h.IsV2);

    public CgroupHierarchy? V1(string controller) => Hierarchies.FirstOrDefault(h => !h.IsV2 && h.Has(controller));

    public static CgroupHost Detect() => new(CgroupHierarchy.Parse(File.ReadAllText("/proc/self/mountinfo")));

    /// <summary>The container's cgroup path: the spec's absolute path, a relative one under /moat, or /moat/ID.</summary>
    public static string ResolvePath(string? cgroupsPath, string containerId)
    {
        if (string.IsNullOrEmpty(cgroupsPath))
            return "/moat/" + containerId;
        if (cgroupsPath.Contains(':'))
            throw new RuntimeException($"linux.cgroupsPath \"{cgroupsPath}\" has the systemd form slice:prefix:name, but the systemd cgroup driver is not available (use a path)");
        var parts = cgroupsPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Any(p => p is ".." or "."))
            throw new RuntimeException($"linux.cgroupsPath \"{cgroupsPath}\" may not contain \".\" or \"..\"");
        // The root of a hierarchy (or the /moat parent) is shared by everything: delete would empty it.
        if (parts.Length == 0)
            throw new RuntimeException($"linux.cgroupsPath \"{cgroupsPath}\" names the root of the hierarchy; give the container a cgroup of its own");
        var normalized = "/" + string.Join('/', parts);
        return cgroupsPath.StartsWith('/') ? normalized : "/moat" + normalized;
    }
}
