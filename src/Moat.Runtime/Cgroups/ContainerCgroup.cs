using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Cgroups;

/// <summary>
/// The container's cgroup in every hierarchy of the host. On v2 (and the unified mount of a hybrid
/// host) the process is born inside it (CLONE_INTO_CGROUP); in v1 hierarchies its pid is written to
/// cgroup.procs before it runs any code of the container.
/// </summary>
public sealed class ContainerCgroup
{
    ContainerCgroup(CgroupHost host, string path, IReadOnlyList<(CgroupHierarchy Hierarchy, string Directory)> directories)
    {
        Host = host;
        Path = path;
        Directories = directories;
    }

    public CgroupHost Host { get; }
    public string Path { get; }
    public IReadOnlyList<(CgroupHierarchy Hierarchy, string Directory)> Directories { get; }

    public static ContainerCgroup For(CgroupHost host, string path) =>
        new(host, path, host.Hierarchies.Select(h => (h, h.DirectoryFor(path))).ToList());

    /// <summary>Directory of the unified (v2) hierarchy, if the host has one.</summary>
    public string? UnifiedDirectory => Directories.FirstOrDefault(d => d.Hierarchy.IsV2).Directory;

    /// <summary>True when every directory exists already: the container joins a cgroup someone else made.</summary>
    public bool IsExisting => Directories.All(d => Directory.Exists(d.Directory));

    /// <summary>Creates the directories that do not exist yet.</summary>
    public void Create()
    {
        foreach (var (hierarchy, directory) in Directories)
            MakeDirectories(hierarchy, directory);
    }

    static void MakeDirectories(CgroupHierarchy hierarchy, string directory)
    {
        if (Directory.Exists(directory))
            return;
        // Walk down from the hierarchy's mount point so that each new cpuset level gets cpus and mems
        // (a v1 cpuset cgroup with empty ones refuses every process).
        var current = hierarchy.MountPoint.TrimEnd('/');
        foreach (var part in directory[current.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var parent = current;
            current += "/" + part;
            if (Directory.Exists(current))
                continue;
            try
            {
                Directory.CreateDirectory(current);
            }
            catch (IOException e)
            {
                throw new RuntimeException($"cannot create cgroup {current}: {e.Message}", e);
            }
            if (!hierarchy.IsV2 && hierarchy.Has("cpuset"))
            {
                CopyIfEmpty(parent, current, "cpuset.cpus");
                CopyIfEmpty(parent, current, "cpuset.mems");
            }
        }
    }

    static void CopyIfEmpty(string parent, string child, string file)
    {
        var childFile = System.IO.Path.Combine(child, file);
        if (File.ReadAllText(childFile).Trim().Length == 0)
            Libc.WriteFile(childFile, File.ReadAllText(System.IO.Path.Combine(parent, file)).Trim());
    }

    /// <summary>Opens the unified directory for CLONE_INTO_CGROUP.</summary>
    public FileDescriptor? OpenUnified() =>
        UnifiedDirectory is { } dir ? Libc.Open(dir, Libc.O_RDONLY | Libc.O_DIRECTORY) : null;

    /// <summary>Moves a process into the v1 hierarchies (the unified one is done by clone3).</summary>
    public void AddProcessToV1(int pid)
    {
        foreach (var (hierarchy, directory) in Directories)
        {
            if (hierarchy.IsV2)
                continue;
            var procs = System.IO.Path.Combine(directory, "cgroup.procs");
            try
            {
                Libc.WriteFile(procs, pid.ToString());
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"cannot add process {pid} to cgroup {directory}: {e.Message}", e);
            }
        }
    }

    /// <summary>Every pid in the container's cgroup (the freezer or pids hierarchy on v1, the unified one on v2).</summary>
    public static IReadOnlyList<int> Pids(IEnumerable<string> directories)
    {
        var pids = new SortedSet<int>();
        foreach (var dir in directories)
        {
            var procs = System.IO.Path.Combine(dir, "cgroup.procs");
            if (!File.Exists(procs))
                continue;
            foreach (var line in File.ReadAllLines(procs))
                if (int.TryParse(line, out var pid))
                    pids.Add(pid);
        }
        return pids.ToList();
    }

    /// <summary>Kills every process in the directories and removes them, deepest first, retrying while the kernel still counts exiting tasks.</summary>
    public static void Destroy(IReadOnlyList<string> directories)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var pids = Pids(directories);
            foreach (var pid in pids)
                Libc.kill(pid, Libc.SIGKILL);
            var remaining = 0;
            foreach (var dir in directories)
            {
                if (!Directory.Exists(dir))
                    continue;
                foreach (var sub in Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(dir))
                {
                    if (Libc.rmdir(sub) < 0 && Errors.LastErrno != Errors.ENOENT)
                        remaining++;
                }
            }
            if (remaining == 0)
                return;
            Thread.Sleep(attempt < 20 ? 1 : 10);
        }
        throw new RuntimeException($"cannot remove cgroup directories {string.Join(", ", directories)}: processes did not exit");
    }
}
