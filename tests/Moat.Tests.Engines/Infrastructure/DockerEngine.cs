using System.Diagnostics;

namespace Moat.Tests.Engines.Infrastructure;

/// <summary>
/// A dockerd of our own with Moat added as the runtime "moat": private socket, data root, exec
/// root, pid file and config file, its own containerd (private socket), no bridge and no iptables
/// rules, cgroups under a parent of its own. Dispose removes containers and stops both daemons,
/// and removes what dockerd creates at fixed host paths if it was not there before.
/// </summary>
public sealed class DockerEngine : IDisposable
{
    public const string DockerdPath = "/usr/sbin/dockerd";
    // Debian's client, of the daemon's version (another docker on PATH may speak a newer API).
    public const string DockerPath = "/usr/bin/docker";

    /// <summary>dockerd 20.10 makes /run/docker/plugins (plugin discovery) whatever its flags say.</summary>
    static readonly string[] FixedHostPaths = ["/run/docker", "/run/docker/plugins", "/etc/docker/key.json"];

    readonly HashSet<string> existedBefore = Leftovers.Existing(FixedHostPaths);
    readonly Process? daemon;

    public DockerEngine()
    {
        Host.Require(DockerdPath, DockerPath);
        var moat = Host.Moat;
        Directory = System.IO.Directory.CreateTempSubdirectory("moat-docker-").FullName;
        Socket = Path.Combine(Directory, "docker.sock");
        CgroupParent = $"/moat-engines-docker-{Environment.ProcessId}";
        LogFile = Path.Combine(Directory, "dockerd.log");
        try
        {
            Containerd = new ContainerdDaemon(Path.Combine(Directory, "containerd"));
            File.WriteAllText(Path.Combine(Directory, "daemon.json"), DaemonJson(Directory));
            daemon = Host.Start(DockerdPath, DaemonFlags(Directory, Containerd.Socket, moat, CgroupParent), LogFile);
            if (!Host.WaitUntil(() => daemon.HasExited || Docker("version").ExitCode == 0, TimeSpan.FromSeconds(60)) || daemon.HasExited)
                throw new InvalidOperationException($"dockerd did not start on {Socket}; its log:\n{File.ReadAllText(LogFile)}");
            Image = new BusyboxImage(Path.Combine(Directory, "image"));
            Docker("import", Image.LayerTar, BusyboxImage.Reference).Ok();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Directory { get; }
    public string Socket { get; }
    public string CgroupParent { get; }
    public string LogFile { get; }
    public ContainerdDaemon? Containerd { get; }
    public BusyboxImage Image { get; } = null!;

    /// <summary>The daemon.json the tests use: the trust key (dockerd 20.10 writes one) in our directory.</summary>
    public static string DaemonJson(string dir) => $$"""
        {
          "deprecated-key-path": "{{dir}}/key.json"
        }
        """;

    /// <summary>The dockerd command line the tests use (docs/engines.md shows it).</summary>
    public static string[] DaemonFlags(string dir, string containerdSocket, string moat, string cgroupParent) =>
    [
        "--config-file", $"{dir}/daemon.json",
        "-H", $"unix://{dir}/docker.sock",
        "--data-root", $"{dir}/data",
        "--exec-root", $"{dir}/exec",
        "--pidfile", $"{dir}/docker.pid",
        "--containerd", containerdSocket,
        "--containerd-namespace", "moat-engines-docker",
        "--containerd-plugins-namespace", "moat-engines-docker-plugins",
        "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false", "--userland-proxy=false",
        "--storage-driver", "vfs",
        "--exec-opt", "native.cgroupdriver=cgroupfs",
        "--cgroup-parent", cgroupParent,
        "--add-runtime", $"moat={moat}",
    ];

    public Host.Result Docker(params string[] args) => DockerWithInput(null, args);

    public Host.Result DockerWithInput(string? stdin, params string[] args) =>
        Host.Run(DockerPath, ["-H", $"unix://{Socket}", .. args], stdin: stdin);

    /// <summary>docker with a terminal of its own (script(1) gives it a pty), for -t.</summary>
    public Host.Result DockerOnTerminal(string stdin, params string[] args)
    {
        var all = new[] { DockerPath, "-H", $"unix://{Socket}" }.Concat(args);
        var command = string.Join(' ', all.Select(s => "'" + s.Replace("'", "'\\''") + "'"));
        return Host.Run("/usr/bin/script", ["-qec", command, "/dev/null"], stdin: stdin);
    }

    public void Dispose()
    {
        try
        {
            if (daemon is { HasExited: false })
            {
                var ids = Docker("ps", "--all", "--quiet").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (ids.Length > 0)
                    Docker(["rm", "--force", .. ids]);
            }
        }
        finally
        {
            if (daemon is not null)
            {
                Host.Stop(daemon, TimeSpan.FromSeconds(20));
                daemon.Dispose();
            }
            Containerd?.Dispose();
            Leftovers.RemoveCgroup(CgroupParent);
            Leftovers.RemoveDirectory(Directory);
            Leftovers.RemoveCreated(FixedHostPaths, existedBefore);
        }
    }
}
