using System.Globalization;
using Moat.Engine.Run;
using Moat.Images.Storage;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Engine.Containers;

/// <summary>
/// What differs when a user runs the engine (docs/rootless.md): limits only in a cgroup delegated to the user,
/// and no networks of Moat's (their bridges, veths and firewall rules are root's).
/// </summary>
public sealed partial class ContainerEngine
{
    /// <summary>Where a user's containers' cgroups go: `/moat-UID/ID` in every hierarchy (v1) or in the v2 tree, when root delegated that directory.</summary>
    public static string RootlessCgroupParent => "/moat-" + RootlessIdentity.HostUid.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Limits for a user's container: the cgroup goes under <see cref="RootlessCgroupParent"/>; a limit whose
    /// controller is not delegated there is refused with how to get delegation, or with --ignore-limits dropped
    /// with a warning. The default pids limit is left out quietly where pids is not delegated (podman's rootless
    /// cgroupfs mode does the same): the user did not ask for it, and refusing it would refuse every container.
    /// </summary>
    void ApplyRootlessLimits(Spec spec, RunRequest request, string id)
    {
        if (!RootlessIdentity.Active)
            return;
        spec.Linux ??= new Linux();
        spec.Linux.CgroupsPath = $"{RootlessCgroupParent}/{id}";
        var resources = spec.Linux.Resources;
        if (resources is null)
            return;
        if (!request.PidsLimitGiven && resources.Pids is not null && !RootlessCgroupDelegation.Has("pids", RootlessCgroupParent))
            resources.Pids = null;
        var missing = RootlessCgroupDelegation.Missing(resources, RootlessCgroupParent);
        if (missing.Count == 0)
            return;
        var what = string.Join(", ", missing.Select(m => $"{m.Field} ({m.Controller})"));
        if (!request.IgnoreLimits)
            throw new EngineException($"the limits {what} need a cgroup delegated to you (uid {RootlessIdentity.HostUid}) and there is none: as root, make {RootlessCgroupDelegation.Describe(RootlessCgroupParent, missing.Select(m => m.Controller))} and chown -R it to you (or, with systemd and cgroup v2, run moat in a unit with Delegate=yes there), or give --ignore-limits to run without them");
        options.Images.Warn?.Invoke($"--ignore-limits: running without {what}: no cgroup is delegated to uid {RootlessIdentity.HostUid}");
        foreach (var m in missing)
            m.Drop(resources);
    }

    /// <summary>A user's engine has no bridge networks (root's): none, host, pasta, or a clear refusal.</summary>
    static void CheckRootlessNetwork(string? mode)
    {
        if (!RootlessIdentity.Active || mode is "none" or "host" or PastaNetwork)
            return;
        throw new EngineException($"--network {mode ?? "bridge"}: Moat's networks (bridges, veths, firewall rules) are root's and a user's moat cannot make them; use --network pasta, none or host");
    }

    const string PastaNetwork = "pasta";

    string PastaNamespacePath(string id) => Path.Combine(RuntimeRoot, "netns", id);

    /// <summary>
    /// `--network pasta` (rootless): a network namespace of the container's own, bound to a file under the runtime
    /// root, which passt's pasta connects to the host's network in user mode (outbound TCP/UDP through the host's
    /// sockets, `-p` ports listened on by pasta on the host); the runtime joins it by path. pasta leaves when the
    /// file goes (rm). It needs /dev/net/tun to make the namespace's interface.
    /// </summary>
    IReadOnlyList<Moat.Network.PortMapping> AttachPasta(RunRequest request, string id, Spec spec)
    {
        var pasta = new[] { "/usr/bin/pasta", "/usr/local/bin/pasta", "/bin/pasta" }.FirstOrDefault(File.Exists)
            ?? throw new EngineException("--network pasta needs pasta, which is not installed (Debian: apt-get install passt)");
        var tun = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_CLOEXEC, 0);
        if (tun < 0)
            throw new EngineException($"--network pasta needs /dev/net/tun, which this user cannot open ({Errors.Describe(Errors.LastErrno)}); as root, make it usable by users with chmod 0666 /dev/net/tun (its usual mode; the kernel still checks each use), or run with --network none");
        Libc.close(tun);
        var ports = request.Publish.Select(p => p.HostPort == 0 ? throw new EngineException("--network pasta: give -p a host port (pasta does not pick free ones)") : p).ToList();
        if (request.PublishAll)
            throw new EngineException("-P needs a network of Moat's; with --network pasta publish each port with -p");
        if (request.Egress is not null)
            throw new EngineException("--egress needs a network of Moat's (its firewall rules are root's)");

        var path = PastaNamespacePath(id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
        MakeNetworkNamespaceAt(path);
        var argv = new List<string> { pasta, "--config-net", "--quiet", "--netns", path };
        // Only what -p asks for comes in (pasta would forward every port bound inside by default).
        var tcp = ports.Where(p => p.Protocol == "tcp").Select(Spec).ToList();
        var udp = ports.Where(p => p.Protocol == "udp").Select(Spec).ToList();
        argv.AddRange(tcp.Count > 0 ? tcp.SelectMany(t => new[] { "-t", t }) : ["-t", "none"]);
        argv.AddRange(udp.Count > 0 ? udp.SelectMany(u => new[] { "-u", u }) : ["-u", "none"]);
        argv.AddRange(["-T", "none", "-U", "none"]);
        var log = Path.Combine(DirectoryOf(id), "pasta.log");
        using (var output = Libc.Open(log, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_CLOEXEC, 0b110_000_000))
        using (var devNull = Libc.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC))
        {
            // pasta sets up, then goes to the background: its exit status says whether the set-up worked.
            var pid = Libc.SpawnDetached(pasta, argv, [], [(devNull.Fd, 0), (output.Fd, 1), (output.Fd, 2)], newSession: true);
            var status = WaitFor(pid);
            if (status != 0)
            {
                ReleasePasta(id);
                throw new EngineException($"pasta could not connect the container's network (exit status {status}): {(Libc.TryReadText(log) ?? "").Trim().ReplaceLineEndings("; ")}");
            }
        }
        spec.Linux ??= new Linux();
        spec.Linux.Namespaces ??= [];
        spec.Linux.Namespaces.RemoveAll(n => n.Type == NamespaceType.Network);
        spec.Linux.Namespaces.Add(new LinuxNamespace { Type = NamespaceType.Network, Path = path });
        return ports;

        static string Spec(Moat.Network.PortMapping p) =>
            (p.HostIp is "0.0.0.0" or "" ? "" : p.HostIp + "/") + $"{p.HostPort}:{p.ContainerPort}";
    }

    static unsafe int WaitFor(int pid)
    {
        int status;
        while (Libc.waitpid(pid, &status, 0) < 0)
            if (Errors.LastErrno != Errors.EINTR)
                return -1;
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
    }

    /// <summary>
    /// A new network namespace bound onto <paramref name="path"/>. Unsharing the network namespace affects only the
    /// calling thread (unlike the user and mount ones, the kernel allows it in a multi-threaded process), so a
    /// thread of its own does it and ends.
    /// </summary>
    static void MakeNetworkNamespaceAt(string path)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                const int CLONE_NEWNET = 0x40000000;
                Errors.Check(Libc.unshare(CLONE_NEWNET), "unshare (network namespace)");
                Libc.Mount("/proc/thread-self/ns/net", path, null, Libc.MS_BIND, null);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
            throw new EngineException($"cannot make the container's network namespace: {failure.Message}");
    }

    /// <summary>The pasta namespace's file unmounted and removed: pasta sees it go and exits.</summary>
    void ReleasePasta(string id)
    {
        var path = PastaNamespacePath(id);
        if (!File.Exists(path))
            return;
        Libc.umount2(path, Libc.MNT_DETACH);
        File.Delete(path);
    }
}

/// <summary>Whether root delegated a cgroup directory to the user, per controller (a directory the user can write).</summary>
public static class RootlessCgroupDelegation
{
    const string Root = "/sys/fs/cgroup";
    static bool PureV2 => File.Exists(Path.Combine(Root, "cgroup.controllers"));

    public sealed record Need(string Field, string Controller, Action<LinuxResources> Drop);

    /// <summary>The directory of <paramref name="parent"/> for <paramref name="controller"/>: v1 per hierarchy, v2 one tree.</summary>
    public static string Directory(string controller, string parent) =>
        PureV2 ? Root + parent : $"{Root}/{controller}{parent}";

    public static bool Has(string controller, string parent)
    {
        var directory = Directory(controller, parent);
        if (Libc.access(directory, 2 /* W_OK */) != 0)
            return false;
        // v2: the controller must be enabled for the delegated directory's children.
        return !PureV2 || (Libc.TryReadText(Path.Combine(directory, "cgroup.controllers")) ?? "").Split(' ', '\n').Contains(controller);
    }

    public static string Describe(string parent, IEnumerable<string> controllers) =>
        PureV2 ? Root + parent : string.Join(", ", controllers.Distinct().Select(c => $"{Root}/{c}{parent}"));

    /// <summary>Each limit set in <paramref name="resources"/> whose controller is not delegated (devices are not limits: the runtime leaves them out).</summary>
    public static List<Need> Missing(LinuxResources resources, string parent)
    {
        var needs = new List<Need>();
        if (resources.Memory is not null)
            needs.Add(new("memory", "memory", r => r.Memory = null));
        if (resources.Cpu is { } cpu && (cpu.Shares ?? cpu.Period ?? cpu.Burst ?? (object?)cpu.Quota ?? cpu.RealtimeRuntime ?? (object?)cpu.RealtimePeriod) is not null)
            needs.Add(new("cpu shares/quota", "cpu", r => { r.Cpu!.Shares = null; r.Cpu.Quota = null; r.Cpu.Period = null; r.Cpu.Burst = null; r.Cpu.RealtimeRuntime = null; r.Cpu.RealtimePeriod = null; }));
        if (resources.Cpu is { } cpuset && (!string.IsNullOrEmpty(cpuset.Cpus) || !string.IsNullOrEmpty(cpuset.Mems)))
            needs.Add(new("cpuset", "cpuset", r => { r.Cpu!.Cpus = null; r.Cpu.Mems = null; }));
        if (resources.Pids is not null)
            needs.Add(new("pids", "pids", r => r.Pids = null));
        if (resources.BlockIo is not null)
            needs.Add(new("blkio", PureV2 ? "io" : "blkio", r => r.BlockIo = null));
        if (resources.HugepageLimits is { Count: > 0 })
            needs.Add(new("hugepages", "hugetlb", r => r.HugepageLimits = null));
        return needs.Where(n => !Has(n.Controller, parent)).ToList();
    }
}
