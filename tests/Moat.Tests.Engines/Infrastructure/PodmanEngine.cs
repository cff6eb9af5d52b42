namespace Moat.Tests.Engines.Infrastructure;

/// <summary>
/// podman with Moat as its OCI runtime, every path private to this instance: storage (--root,
/// --runroot), libpod's tmp and static dirs, events log, network config, Moat's state root
/// (--runtime-flag root=), and a cgroup parent of its own. Dispose removes the containers, the
/// image, mounts, cgroups and the directory, also after a failed test.
/// </summary>
public sealed class PodmanEngine : IDisposable
{
    public const string PodmanPath = "/usr/bin/podman";
    public const string ConmonPath = "/usr/bin/conmon";

    /// <summary>
    /// Where podman writes whatever its flags say: the image library's blob-info cache (root's
    /// default, not under --root in Debian's podman 4.3). Removed after the tests if it was not there before.
    /// </summary>
    static readonly string[] FixedHostPaths =
        ["/var/lib/containers", "/var/lib/containers/cache", "/var/lib/containers/cache/blob-info-cache-v1.boltdb"];

    readonly Dictionary<string, string> env;
    readonly string[] globalFlags;
    readonly HashSet<string> existedBefore = Leftovers.Existing(FixedHostPaths);

    public PodmanEngine()
    {
        Host.Require(PodmanPath, ConmonPath);
        var moat = Host.Moat;
        Directory = System.IO.Directory.CreateTempSubdirectory("moat-podman-").FullName;
        CgroupParent = $"/moat-engines-podman-{Environment.ProcessId}";
        ConfigFile = Path.Combine(Directory, "containers.conf");
        File.WriteAllText(ConfigFile, ContainersConf(Directory, moat));
        env = new Dictionary<string, string> { ["CONTAINERS_CONF"] = ConfigFile, ["TMPDIR"] = Path.Combine(Directory, "tmp") };
        System.IO.Directory.CreateDirectory(env["TMPDIR"]);
        globalFlags =
        [
            "--root", Path.Combine(Directory, "storage"),
            "--runroot", Path.Combine(Directory, "runroot"),
            "--storage-driver", "vfs",
            "--runtime-flag", $"root={Path.Combine(Directory, "moat-state")}",
        ];
        Image = new BusyboxImage(Path.Combine(Directory, "image"));
        Podman("import", Image.LayerTar, BusyboxImage.Reference).Ok();
    }

    public string Directory { get; }
    public string ConfigFile { get; }
    public string CgroupParent { get; }
    public BusyboxImage Image { get; }

    /// <summary>
    /// The containers.conf the tests use (docs/engines.md shows it). Root here lacks
    /// CAP_SYS_RESOURCE, so podman's default nofile/nproc limits (above the hard limits) are lowered.
    /// </summary>
    public static string ContainersConf(string dir, string moat) => $"""
        [containers]
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
        log_driver = "k8s-file"
        netns = "none"

        [engine]
        runtime = "moat"
        cgroup_manager = "cgroupfs"
        events_logger = "file"
        events_logfile_path = "{dir}/events.log"
        static_dir = "{dir}/libpod"
        tmp_dir = "{dir}/libpod-tmp"
        volume_path = "{dir}/volumes"

        [engine.runtimes]
        moat = ["{moat}"]

        [network]
        network_config_dir = "{dir}/networks"

        """;

    public Host.Result Podman(params string[] args) => PodmanWithInput(null, args);

    public Host.Result PodmanWithInput(string? stdin, params string[] args)
    {
        // Containers go under our own cgroup parent, so that nothing is left in the host's tree.
        if (args.Length > 0 && args[0] is "run" or "create")
            args = [args[0], "--cgroup-parent", CgroupParent, .. args[1..]];
        return Host.Run(PodmanPath, [.. globalFlags, .. args], env, stdin);
    }

    /// <summary>podman with a terminal of its own: script(1) gives it a pty, as a user's shell would.</summary>
    public Host.Result PodmanOnTerminal(string stdin, params string[] args)
    {
        if (args.Length > 0 && args[0] is "run" or "create")
            args = [args[0], "--cgroup-parent", CgroupParent, .. args[1..]];
        var command = string.Join(' ', new[] { PodmanPath }.Concat(globalFlags).Concat(args).Select(Quote));
        return Host.Run("/usr/bin/script", ["-qec", command, "/dev/null"], env, stdin);
    }

    static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    public void Dispose()
    {
        try
        {
            Podman("rm", "--all", "--force", "--time", "0");
            Podman("rmi", "--all", "--force");
        }
        finally
        {
            foreach (var pid in Host.ProcessesWith(Directory))
                Host.Signal(pid, 9); // conmon or a container of ours that podman could not stop
            Leftovers.RemoveCgroup(CgroupParent);
            Leftovers.RemoveDirectory(Directory);
            Leftovers.RemoveCreated(FixedHostPaths, existedBefore);
        }
    }
}
