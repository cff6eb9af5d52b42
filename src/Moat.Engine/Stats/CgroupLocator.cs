using Moat.Interop;

namespace Moat.Engine.Stats;

/// <summary>
/// Where a process's cgroups are on this host, for each controller: its line in /proc/PID/cgroup
/// (`N:controllers:path` on v1, `0::path` on v2) joined with the mount point of that hierarchy from
/// /proc/self/mountinfo. Works for whatever runtime made the cgroups (moat-runtime, runc, crun), on v1,
/// v2 and the hybrid layout, because it asks the kernel where the process is rather than guessing a path.
/// </summary>
public sealed class CgroupLocator
{
    readonly List<(string Mount, string Root, string[] Controllers, bool IsV2)> hierarchies = [];

    public CgroupLocator()
    {
        foreach (var line in (Libc.TryReadText("/proc/self/mountinfo") ?? "").Split('\n'))
        {
            // id parent major:minor root mountpoint options... - fstype source superoptions
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0) continue;
            var before = line[..dash].Split(' ');
            var after = line[(dash + 3)..].Split(' ');
            if (before.Length < 5 || after.Length < 3) continue;
            var root = Unescape(before[3]);
            var mount = Unescape(before[4]);
            if (after[0] == "cgroup2")
                hierarchies.Add((mount, root, [], true));
            else if (after[0] == "cgroup")
                hierarchies.Add((mount, root, after[2].Split(','), false));
        }
    }

    static string Unescape(string field) => field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");

    /// <summary>The directory of <paramref name="pid"/>'s cgroup for a v1 controller (memory, cpuacct, pids, blkio...), or its v2 directory; null when neither exists.</summary>
    public CgroupDirectory? Find(int pid, string controller)
    {
        var text = Libc.TryReadText($"/proc/{pid}/cgroup");
        if (text is null) return null;
        string? v2Path = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var first = line.IndexOf(':');
            var second = first < 0 ? -1 : line.IndexOf(':', first + 1);
            if (second < 0) continue;
            var controllers = line[(first + 1)..second];
            var path = line[(second + 1)..];
            if (controllers.Length == 0 && line[..first] == "0")
            {
                v2Path = path;
                continue;
            }
            if (!controllers.Split(',').Contains(controller)) continue;
            foreach (var h in hierarchies)
                if (!h.IsV2 && h.Controllers.Contains(controller) && Join(h.Mount, h.Root, path) is { } directory)
                    return new CgroupDirectory(directory, false);
        }
        // On a pure v2 host every controller is in the one hierarchy (on the hybrid one, v2 holds only what v1 does not).
        if (v2Path is not null)
            foreach (var h in hierarchies)
                if (h.IsV2 && Join(h.Mount, h.Root, v2Path) is { } directory && File.Exists(Path.Combine(directory, "cgroup.controllers")))
                {
                    var enabled = (Libc.TryReadText(Path.Combine(directory, "cgroup.controllers")) ?? "").Split(' ', '\n');
                    // cpu.stat exists without the cpu controller; memory, pids and io need theirs.
                    if (controller == "cpuacct" || enabled.Contains(controller == "blkio" ? "io" : controller))
                        return new CgroupDirectory(directory, true);
                }
        return null;
    }

    /// <summary>The cgroup's directory: the path as the process sees it, relative to the hierarchy's root as mounted.</summary>
    static string? Join(string mount, string root, string path)
    {
        if (root != "/" && path.StartsWith(root, StringComparison.Ordinal))
            path = path[root.Length..];
        var directory = mount.TrimEnd('/') + "/" + path.TrimStart('/');
        return Directory.Exists(directory) ? directory.TrimEnd('/') : null;
    }
}

public sealed record CgroupDirectory(string Path, bool IsV2)
{
    public string? Read(string file) => Libc.TryReadText(System.IO.Path.Combine(Path, file));

    /// <summary>A file holding one number; null when absent or "max".</summary>
    public ulong? Number(string file) => Read(file)?.Trim() is { } text && ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>`key value` lines (memory.stat, cpu.stat): the value of <paramref name="key"/>.</summary>
    public ulong? Field(string file, string key)
    {
        foreach (var line in (Read(file) ?? "").Split('\n'))
            if (line.StartsWith(key + " ", StringComparison.Ordinal)
                && ulong.TryParse(line.AsSpan(key.Length + 1).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
                return n;
        return null;
    }
}
