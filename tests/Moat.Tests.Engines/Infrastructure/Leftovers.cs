namespace Moat.Tests.Engines.Infrastructure;

/// <summary>
/// What an engine may leave on the host when a test fails half-way: mounts under its private
/// directory, cgroups under its private parent, empty directories it made at fixed host paths.
/// Each is removed only when it is ours (a private path, or absent before the daemon started).
/// </summary>
public static class Leftovers
{
    /// <summary>Lazily unmounts every mount point under the directory, deepest first.</summary>
    public static void UnmountUnder(string directory)
    {
        var prefix = directory.TrimEnd('/') + "/";
        for (var round = 0; round < 5; round++)
        {
            var points = File.ReadLines("/proc/self/mountinfo")
                .Select(line => line.Split(' ')[4].Replace("\\040", " "))
                .Where(p => p.StartsWith(prefix, StringComparison.Ordinal) || p == directory)
                .Distinct()
                .OrderByDescending(p => p.Length)
                .ToList();
            if (points.Count == 0)
                return;
            foreach (var point in points)
                Host.Run("/bin/umount", ["-l", point], timeout: TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Every cgroup hierarchy's root (v1 controllers and the unified one).</summary>
    static IEnumerable<string> HierarchyRoots() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(f => f.Length > 8 && f[Array.IndexOf(f, "-") + 1] is "cgroup" or "cgroup2")
            .Select(f => f[4])
            .Distinct();

    /// <summary>Kills what still runs in the cgroup subtree (ours alone), then removes it, deepest first.</summary>
    public static void RemoveCgroup(string relative)
    {
        relative = relative.Trim('/');
        if (relative.Length == 0)
            throw new ArgumentException("refusing to remove a root cgroup");
        foreach (var root in HierarchyRoots())
        {
            var top = Path.Combine(root, relative);
            if (!Directory.Exists(top))
                continue;
            var dirs = Directory.EnumerateDirectories(top, "*", SearchOption.AllDirectories).Append(top)
                .OrderByDescending(d => d.Length).ToList();
            foreach (var dir in dirs)
                foreach (var pid in ReadPids(Path.Combine(dir, "cgroup.procs")))
                    Host.Signal(pid, 9);
            foreach (var dir in dirs)
                Host.WaitUntil(() => TryRemoveDirectory(dir), TimeSpan.FromSeconds(10));
        }
    }

    public static bool CgroupExists(string relative) =>
        HierarchyRoots().Any(root => Directory.Exists(Path.Combine(root, relative.Trim('/'))));

    static IEnumerable<int> ReadPids(string file)
    {
        try
        {
            return File.ReadAllLines(file).Select(int.Parse).ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }

    static bool TryRemoveDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir); // rmdir: a cgroup's files are not removed, the directory goes at once
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The host paths an engine creates regardless of its flags, and which of them exist now.</summary>
    public static HashSet<string> Existing(IEnumerable<string> paths) => paths.Where(p => Path.Exists(p)).ToHashSet();

    /// <summary>Removes those of the paths that did not exist before, when empty (deepest first); a file is removed too.</summary>
    public static void RemoveCreated(IEnumerable<string> paths, HashSet<string> existedBefore)
    {
        foreach (var path in paths.Where(p => !existedBefore.Contains(p)).OrderByDescending(p => p.Length))
        {
            try
            {
                if (File.Exists(path))
                    File.Delete(path);
                else if (Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any())
                    Directory.Delete(path);
            }
            catch (IOException)
            {
                // Another engine on this host uses it now; it is not ours to take.
            }
        }
    }

    /// <summary>Removes a private directory after its mounts are gone.</summary>
    public static void RemoveDirectory(string directory)
    {
        UnmountUnder(directory);
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next run to see; the failing test already reports why.
        }
    }
}
