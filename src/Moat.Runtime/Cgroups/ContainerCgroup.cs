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

    ResourceWriter? resources;
    Action<string>? warn;

    /// <summary>The writer of this cgroup's limits; one per cgroup, so that what Validate warned about is not warned again by Apply.</summary>
    public ResourceWriter Resources => resources ??= warn is null ? new ResourceWriter(this) : new ResourceWriter(this) { Warn = warn };

    /// <param name="warn">Where the limits' warnings go (stderr when null).</param>
    public static ContainerCgroup For(CgroupHost host, string path, Action<string>? warn = null) =>
        new(host, path, host.Hierarchies.Select(h => (h, h.DirectoryFor(path))).ToList()) { warn = warn };

    /// <summary>
    /// The part of this cgroup a runtime without root may use: the hierarchies whose directory, or
    /// its nearest existing ancestor, this user can write (a delegated v2 subtree, or a v1 directory
    /// that root made and handed over with chown), as runc's rootless mode. The others are returned
    /// in <paramref name="unwritable"/> for the caller to refuse limits on.
    /// </summary>
    public ContainerCgroup WritableOnly(out IReadOnlyList<string> unwritable)
    {
        var keep = new List<(CgroupHierarchy, string)>();
        var refused = new List<string>();
        foreach (var (hierarchy, directory) in Directories)
        {
            var existing = directory;
            while (!Directory.Exists(existing) && existing.Length > hierarchy.MountPoint.Length)
                existing = System.IO.Path.GetDirectoryName(existing) ?? hierarchy.MountPoint;
            // The directory itself needs write (for its files) once it exists; an ancestor needs it to make the directory.
            var probe = Directory.Exists(directory) ? System.IO.Path.Combine(directory, "cgroup.procs") : existing;
            if (Libc.access(probe, Libc.W_OK) == 0)
                keep.Add((hierarchy, directory));
            else
                refused.Add(directory);
        }
        unwritable = refused;
        return new ContainerCgroup(Host, Path, keep) { warn = warn };
    }

    /// <summary>Directory of the unified (v2) hierarchy, if the host has one.</summary>
    public string? UnifiedDirectory => Directories.FirstOrDefault(d => d.Hierarchy.IsV2).Directory;

    /// <summary>True when every directory exists already: the container joins a cgroup someone else made.</summary>
    public bool IsExisting => Directories.All(d => Directory.Exists(d.Directory));

    /// <summary>
    /// Creates the directories that do not exist yet. On a pure v2 host it then enables, as runc and
    /// crun do, every controller the hierarchy offers in each ancestor's cgroup.subtree_control, so
    /// that the container's statistics and later updates find their files; this is best effort (a
    /// delegated subtree may refuse some), the controllers that limits need are enabled strictly by
    /// <see cref="ResourceWriter.Apply"/>.
    /// </summary>
    public void Create()
    {
        foreach (var (hierarchy, directory) in Directories)
            MakeDirectories(hierarchy, directory);
        if (Host.IsPureV2 && AvailableV2Controllers() is { Count: > 0 } available)
            EnableControllers(available, bestEffort: true);
    }

    IReadOnlyList<string>? availableV2;

    /// <summary>
    /// The controllers the unified hierarchy offers (its top's cgroup.controllers, in the kernel's
    /// order), or null when there is no unified hierarchy or the file cannot be read.
    /// </summary>
    public IReadOnlyList<string>? AvailableV2Controllers()
    {
        if (availableV2 is not null)
            return availableV2;
        if (Host.Unified is not { } unified)
            return null;
        var text = CgroupFile.TryRead(System.IO.Path.Combine(unified.MountPoint, "cgroup.controllers"));
        return availableV2 = text?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>
    /// Where a controller's files are for this container. A v1 hierarchy that has the controller
    /// wins; otherwise the unified hierarchy, on a pure v2 host or when a hybrid host's unified mount
    /// offers the controller (say hugetlb, not bound to any v1 hierarchy). Null, with the reason in
    /// <paramref name="missing"/>, when the host has it nowhere.
    /// </summary>
    public CgroupController? Controller(string v1Name, out string missing)
    {
        missing = "";
        var v2Name = CgroupController.V2Name(v1Name);
        if (!Host.IsPureV2)
        {
            foreach (var (hierarchy, directory) in Directories)
                if (!hierarchy.IsV2 && hierarchy.Has(v1Name))
                    return new CgroupController(v1Name, directory, hierarchy);
        }
        var unified = Directories.FirstOrDefault(d => d.Hierarchy.IsV2);
        var available = AvailableV2Controllers();
        if (Host.IsPureV2)
        {
            if (v2Name is null)
            {
                missing = $"cgroup v2 has no {v1Name} controller";
                return null;
            }
            // An unreadable cgroup.controllers is left to the writes to report.
            if (available is not null && !available.Contains(v2Name))
            {
                missing = $"the {v2Name} controller is not available in {System.IO.Path.Combine(unified.Hierarchy.MountPoint, "cgroup.controllers")}";
                return null;
            }
            return new CgroupController(v2Name, unified.Directory, unified.Hierarchy);
        }
        if (unified.Hierarchy is not null && v2Name is not null && available is not null && available.Contains(v2Name))
            return new CgroupController(v2Name, unified.Directory, unified.Hierarchy);
        missing = $"the host has no {v1Name} cgroup hierarchy";
        if (unified.Hierarchy is not null && v2Name is not null)
            missing += $", and its cgroup v2 mount {unified.Hierarchy.MountPoint} does not offer the {v2Name} controller";
        return null;
    }

    public CgroupController? Controller(string v1Name) => Controller(v1Name, out _);

    /// <summary>
    /// Enables v2 controllers for the container: in the cgroup.subtree_control of every ancestor,
    /// from the top of the unified hierarchy down to the container's parent. The controllers missing
    /// at a level are written in one request ("+cpu +memory"); when that fails they are tried one by
    /// one. Unless <paramref name="bestEffort"/>, a controller that a level does not offer (its
    /// cgroup.controllers) or refuses throws <see cref="CgroupControllerException"/>.
    /// </summary>
    public void EnableControllers(IEnumerable<string> controllers, bool bestEffort = false, Action<string, string>? onWrite = null)
    {
        var (hierarchy, directory) = Directories.FirstOrDefault(d => d.Hierarchy.IsV2);
        if (hierarchy is null)
            return;
        var wanted = controllers.Distinct().ToList();
        if (wanted.Count == 0)
            return;
        if (AvailableV2Controllers() is { } order)
            wanted = wanted.OrderBy(c => order.Contains(c) ? order.TakeWhile(o => o != c).Count() : int.MaxValue).ToList();
        var current = hierarchy.MountPoint.TrimEnd('/');
        var parts = directory[current.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            EnableIn(current, wanted, bestEffort, onWrite);
            current += "/" + parts[i];
        }
    }

    static void EnableIn(string dir, List<string> wanted, bool bestEffort, Action<string, string>? onWrite)
    {
        var subtreeControl = System.IO.Path.Combine(dir, "cgroup.subtree_control");
        var enabled = CgroupFile.TryReadWords(subtreeControl) ?? [];
        var offered = CgroupFile.TryReadWords(System.IO.Path.Combine(dir, "cgroup.controllers"));
        var missing = new List<string>();
        foreach (var controller in wanted.Where(c => !enabled.Contains(c)))
        {
            if (offered is not null && !offered.Contains(controller))
            {
                if (bestEffort)
                    continue;
                throw new CgroupControllerException(controller,
                    $"the {controller} controller is not available in {System.IO.Path.Combine(dir, "cgroup.controllers")}, so it cannot be enabled for the container");
            }
            missing.Add(controller);
        }
        if (missing.Count == 0)
            return;
        var request = string.Join(' ', missing.Select(c => "+" + c));
        if (TryEnable(subtreeControl, request, onWrite) is null)
            return;
        foreach (var controller in missing)
        {
            if (TryEnable(subtreeControl, "+" + controller, onWrite) is { } errno && !bestEffort)
                throw new CgroupControllerException(controller,
                    $"cannot enable the {controller} controller: writing \"+{controller}\" to {subtreeControl} failed: {Errors.Describe(errno)}");
        }
    }

    static int? TryEnable(string subtreeControl, string request, Action<string, string>? onWrite)
    {
        try
        {
            CgroupFile.Write(subtreeControl, request);
            onWrite?.Invoke(subtreeControl, request);
            return null;
        }
        catch (SyscallException e)
        {
            return e.Errno;
        }
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
                throw new RuntimeException($"cannot create cgroup {current}: {Oci.ErrorText.Reason(e)}", e);
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

    /// <summary>Moves a process into the v1 hierarchies, and into the unified one unless clone3 did that already.</summary>
    public void AddProcess(int pid, bool includeUnified)
    {
        foreach (var (hierarchy, directory) in Directories)
        {
            if (hierarchy.IsV2 && !includeUnified)
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
        // The usual case, a container whose processes are gone and that made no child cgroups: one
        // rmdir each. A directory that still has tasks or children refuses (EBUSY) and takes the loop.
        var left = 0;
        foreach (var dir in directories)
            if (Libc.rmdir(dir) < 0 && Errors.LastErrno != Errors.ENOENT)
                left++;
        if (left == 0)
            return;
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
