using System.Diagnostics;

namespace Moat.Tests.Engines.Infrastructure;

/// <summary>
/// A containerd of our own: config, root, state, sockets and opt dir under a private directory, the
/// CRI plugin off. Dispose kills and deletes what runs in it, stops it and its shims, and removes
/// mounts and the directory. The runc v2 shim keeps its sockets under /run/containerd/s whatever
/// the config says (containerd 1.6); that directory is removed afterwards if we made it.
/// </summary>
public sealed class ContainerdDaemon : IDisposable
{
    public const string ContainerdPath = "/usr/bin/containerd";
    public const string CtrPath = "/usr/bin/ctr";
    public const string ShimPath = "/usr/bin/containerd-shim-runc-v2";
    public const string Namespace = "moat-engines";

    static readonly string[] FixedHostPaths = ["/run/containerd", "/run/containerd/s", "/run/containerd/fifo"];

    readonly HashSet<string> existedBefore = Leftovers.Existing(FixedHostPaths);
    readonly Process daemon;

    public ContainerdDaemon(string directory)
    {
        Host.Require(ContainerdPath, CtrPath, ShimPath);
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        Socket = Path.Combine(directory, "containerd.sock");
        ConfigFile = Path.Combine(directory, "containerd.toml");
        File.WriteAllText(ConfigFile, Config(directory));
        LogFile = Path.Combine(directory, "containerd.log");
        daemon = Host.Start(ContainerdPath, ["--config", ConfigFile], LogFile);
        if (!Host.WaitUntil(() => daemon.HasExited || Ctr("version").ExitCode == 0, TimeSpan.FromSeconds(60)) || daemon.HasExited)
        {
            var log = File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";
            Dispose();
            throw new InvalidOperationException($"containerd did not start on {Socket}; its log:\n{log}");
        }
    }

    public string Directory { get; }
    public string Socket { get; }
    public string ConfigFile { get; }
    public string LogFile { get; }

    /// <summary>The containerd config the tests use (docs/engines.md shows it).</summary>
    public static string Config(string dir) => $"""
        version = 2
        root = "{dir}/root"
        state = "{dir}/state"
        disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

        [grpc]
          address = "{dir}/containerd.sock"

        [ttrpc]
          address = "{dir}/containerd.sock.ttrpc"

        [debug]
          address = "{dir}/debug.sock"

        [plugins."io.containerd.internal.v1.opt"]
          path = "{dir}/opt"

        """;

    public Host.Result Ctr(params string[] args) => Host.Run(CtrPath, ["--address", Socket, "--namespace", Namespace, .. args]);

    public void Dispose()
    {
        try
        {
            if (!daemon.HasExited)
            {
                foreach (var line in Ctr("tasks", "ls", "--quiet").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    Ctr("tasks", "kill", "--signal", "SIGKILL", line);
                    Host.WaitUntil(() => Ctr("tasks", "delete", line).ExitCode == 0, TimeSpan.FromSeconds(10));
                }
                foreach (var line in Ctr("containers", "ls", "--quiet").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    Ctr("containers", "delete", line);
            }
        }
        finally
        {
            Host.Stop(daemon, TimeSpan.FromSeconds(15));
            daemon.Dispose();
            // Shims name our socket on their command line; a shim outlives a daemon that was killed.
            foreach (var pid in Host.ProcessesWith(Socket))
                Host.Signal(pid, 9);
            Leftovers.RemoveDirectory(Directory);
            Leftovers.RemoveCreated(FixedHostPaths, existedBefore);
        }
    }
}
