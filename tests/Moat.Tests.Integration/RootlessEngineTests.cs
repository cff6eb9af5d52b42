using System.Diagnostics;
using System.Formats.Tar;
using System.Net;
using System.Net.Sockets;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>
/// `moat` (the engine, bin/moat) run by a user without root (issue 22): a user the fixture makes pulls from a
/// real registry on 127.0.0.1 and runs containers inside its own user namespace; a second user sees none of it.
/// </summary>
public sealed class RootlessEngineTests : IClassFixture<RootlessEngineTests.World>
{
    readonly World world;

    public RootlessEngineTests(World world) => this.world = world;

    [Fact]
    public void PullRunExecLogsStopAndRmWorkForAUser()
    {
        var alice = world.Alice;
        var id = alice.Ok("run", "-d", world.Image, "sh", "-c", "echo hello from a user; exec sleep 100").Trim();
        try
        {
            Assert.Contains(id[..12], alice.Ok("ps"));
            var inside = alice.Ok("exec", id, "sh", "-c", "id -u; cat /proc/self/uid_map").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // Root inside is the user itself; ids 1.. are its subordinate range.
            Assert.Equal("0", inside[0]);
            Assert.Equal(["0", alice.User.Uid.ToString(), "1"], inside[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal(["1", alice.User.SubordinateUid!.Value.ToString(), "65536"], inside[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            Eventually(() => alice.Run("logs", id).Stdout.Contains("hello from a user"), "the container's output in logs");
            Assert.Equal("running", alice.Ok("inspect", "-f", "{{.State.Status}}", id).Trim());
            alice.Ok("stop", "-t", "1", id);
            Assert.Equal("exited", alice.Ok("inspect", "-f", "{{.State.Status}}", id).Trim());
            alice.Ok("rm", id);
            Assert.DoesNotContain(id[..12], alice.Ok("ps", "-a"));
        }
        finally
        {
            alice.Run("rm", "-f", id);
        }
        // Everything in the user's store and runtime directory is the user's or its subordinate ids': root wrote nothing there.
        var rootOwned = MoatCli.Exec("/usr/bin/find", [alice.Data, alice.User.RuntimeDirectory, "-uid", "0"]).Ok().Stdout.Trim();
        Assert.True(rootOwned.Length == 0, "root owns files in the user's store: " + rootOwned);
    }

    [Fact]
    public void RunRmAndKeepIdKeepTheUsersOwnUid()
    {
        var alice = world.Alice;
        var output = alice.Ok("run", "--rm", "--userns", "keep-id", world.Image, "sh", "-c", "id -u; id -g");
        Assert.Equal([alice.User.Uid.ToString(), alice.User.Gid.ToString()], output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.DoesNotContain("keep-id", alice.Ok("ps", "-a", "--no-trunc"));
    }

    [Fact]
    public void AnotherUserCannotSeeOrReachTheContainers()
    {
        var id = world.Alice.Ok("run", "-d", "--name", "alices", world.Image, "sleep", "100").Trim();
        try
        {
            Assert.DoesNotContain("alices", world.Bob.Ok("ps", "-a"));
            Assert.NotEqual(0, world.Bob.Run("inspect", "alices").ExitCode);
            // Not by pointing at Alice's store either: it is hers alone (0700).
            var intrude = world.Bob.Run("--root", Path.Combine(world.Alice.Data, "moat"), "ps", "-a");
            Assert.NotEqual(0, intrude.ExitCode);
            Assert.DoesNotContain("alices", intrude.Stdout);
            Assert.NotEqual(0, MoatCli.Exec("/usr/sbin/runuser", ["-u", world.Bob.User.Name, "--", "/bin/ls", Path.Combine(world.Alice.Data, "moat", "containers")]).ExitCode);
        }
        finally
        {
            world.Alice.Run("rm", "-f", id);
        }
    }

    [Fact]
    public void ContainerRootCannotWriteAHostRootFileBoundIntoIt()
    {
        var directory = Directory.CreateTempSubdirectory("moat-rl-bind-").FullName;
        try
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0x1ed);
            var file = Path.Combine(directory, "owned-by-root");
            File.WriteAllText(file, "root's\n");
            File.SetUnixFileMode(file, (UnixFileMode)0x1a4);
            var result = world.Alice.Run("run", "--rm", "-v", $"{file}:/hostfile", world.Image, "sh", "-c", "cat /hostfile; echo changed > /hostfile");
            Assert.Contains("root's", result.Stdout);
            Assert.NotEqual(0, result.ExitCode);
            Assert.Equal("root's\n", File.ReadAllText(file));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void NetworkNoneIsTheDefaultAndBridgesAreRefused()
    {
        foreach (var flags in new[] { Array.Empty<string>(), ["--network", "none"] })
        {
            var interfaces = world.Alice.Ok(["run", "--rm", .. flags, world.Image, "cat", "/proc/net/dev"]);
            Assert.Contains("lo:", interfaces);
            Assert.Equal(3, interfaces.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
        var bridge = world.Alice.Run("run", "--rm", "--network", "bridge", world.Image, "true");
        Assert.Equal(125, bridge.ExitCode);
        Assert.Contains("are root's", bridge.Stderr);
        Assert.Contains("are root's", world.Alice.Run("network", "ls").Stderr);
    }

    [Fact]
    public void LimitsWithoutADelegatedCgroupAreRefusedUnlessIgnored()
    {
        var refused = world.Alice.Run("run", "--rm", "--memory", "64m", world.Image, "true");
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains("delegated", refused.Stderr);
        Assert.Contains("--ignore-limits", refused.Stderr);
        var ignored = world.Alice.Run("run", "--rm", "--memory", "64m", "--ignore-limits", world.Image, "echo", "ran");
        Assert.Equal(0, ignored.ExitCode);
        Assert.Contains("ran", ignored.Stdout);
        Assert.Contains("WARN", ignored.Stderr);
    }

    [Fact]
    public void PastaGivesOutboundTrafficAndLoopbackPortsWithAPrivateTunNode()
    {
        if (!File.Exists("/usr/bin/pasta"))
            Assert.Fail("/usr/bin/pasta is missing: ./scripts/install-deps.sh installs passt");
        var alice = world.Alice;
        // This host's /dev/net/tun is 0600: the user cannot open it, and the error says how to fix that.
        var refused = alice.Run("run", "--rm", "--network", "pasta", world.Image, "true");
        Assert.Equal(125, refused.ExitCode);
        Assert.Contains("/dev/net/tun", refused.Stderr);
        Assert.Contains("chmod 0666", refused.Stderr);

        // A tun node of the test's own, bound over /dev/net/tun in the user's mount namespace only (the holder's).
        var holder = File.ReadAllText(Path.Combine(alice.User.RuntimeDirectory, "moat", "userns.pid")).Split(' ')[0];
        var directory = Directory.CreateTempSubdirectory("moat-rl-net-").FullName;
        File.SetUnixFileMode(directory, (UnixFileMode)0x1ed);
        var tun = Path.Combine(directory, "tun");
        MoatCli.Exec("/usr/bin/mknod", ["-m", "0666", tun, "c", "10", "200"]).Ok();
        Process? hostServer = null;
        string? id = null;
        try
        {
            MoatCli.Exec("/usr/bin/nsenter", ["-t", holder, "-m", "/bin/mount", "--bind", tun, "/dev/net/tun"]).Ok();
            File.WriteAllText(Path.Combine(directory, "greeting"), "from the host\n");
            var hostPort = World.FreePort();
            hostServer = Process.Start(new ProcessStartInfo("/bin/busybox", ["httpd", "-f", "-p", $"127.0.0.1:{hostPort}", "-h", directory]))!;
            var published = World.FreePort();
            id = alice.Ok("run", "-d", "--network", "pasta", "-p", $"127.0.0.1:{published}:8080", world.Image,
                "sh", "-c", "mkdir /w && echo from the container > /w/index.html && exec httpd -f -p 8080 -h /w").Trim();
            // In: the published port on the host's loopback reaches the container.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string? body = null;
            Eventually(() =>
            {
                try { body = http.GetStringAsync($"http://127.0.0.1:{published}/index.html").Result; return true; }
                catch (AggregateException) { return false; }
            }, "the published port answering");
            Assert.Equal("from the container\n", body);
            // Out: the container reaches the host (pasta maps the gateway's address to the host's loopback).
            var outbound = alice.Ok("exec", id, "sh", "-c", $"wget -qO- http://$(ip route | sed -n 's/default via \\([^ ]*\\).*/\\1/p'):{hostPort}/greeting");
            Assert.Equal("from the host\n", outbound);
            alice.Ok("rm", "-f", id);
            id = null;
        }
        finally
        {
            if (id is not null)
                alice.Run("rm", "-f", id);
            hostServer?.Kill();
            hostServer?.Dispose();
            MoatCli.Exec("/usr/bin/nsenter", ["-t", holder, "-m", "/bin/umount", "/dev/net/tun"]);
            Directory.Delete(directory, recursive: true);
        }
    }

    static void Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("not within 30 s: " + what);
            Thread.Sleep(100);
        }
    }

    /// <summary>One user's moat: bin/moat through runuser, its store in a short private directory of its own.</summary>
    public sealed class UserMoat : IDisposable
    {
        public UserMoat(string tag)
        {
            User = new RootlessUser(tag);
            // Short: the attach socket (DATA/moat/containers/<64 hex>/attach.sock) must stay under 108 bytes.
            Data = Directory.CreateTempSubdirectory("mr").FullName;
            MoatCli.Exec("/bin/chown", [$"{User.Uid}:{User.Gid}", Data]).Ok();
            File.SetUnixFileMode(Data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        public RootlessUser User { get; }
        public string Data { get; }

        public MoatCli.Result Run(params string[] args) =>
            MoatCli.Exec("/usr/sbin/runuser", ["-u", User.Name, "--", "/usr/bin/env", $"XDG_RUNTIME_DIR={User.RuntimeDirectory}",
                $"XDG_DATA_HOME={Data}", $"HOME={Data}", World.Moat, .. args], TimeSpan.FromMinutes(2));

        public string Ok(params string[] args) => Run(args).Ok().Stdout;

        public void Dispose()
        {
            try
            {
                var ids = Run("ps", "-aq", "--no-trunc").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (ids.Length > 0)
                    Run(["rm", "-f", .. ids]);
            }
            finally
            {
                // Kills the user's processes (the namespace holder among them: its mounts go with it), then the user.
                User.Dispose();
                Directory.Delete(Data, recursive: true);
            }
        }
    }

    /// <summary>Two users, a registry on 127.0.0.1 holding the busybox image, all removed on dispose.</summary>
    public sealed class World : IDisposable
    {
        public static string Moat => Path.Combine(MoatCli.RepositoryRoot, "bin", "moat");
        readonly string directory;
        readonly Process registry;
        readonly List<IDisposable> owned = [];

        public UserMoat Alice { get; }
        public UserMoat Bob { get; }
        public string Image { get; }

        public World()
        {
            MoatCli.RequireRoot();
            directory = Directory.CreateTempSubdirectory("moat-rl-world-").FullName;
            var port = FreePort();
            File.WriteAllText(Path.Combine(directory, "registry.yml"), $"""
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: {directory}/registry
                http:
                  addr: 127.0.0.1:{port}
                """);
            registry = Process.Start(new ProcessStartInfo("/usr/bin/docker-registry", ["serve", Path.Combine(directory, "registry.yml")])
            { RedirectStandardError = true, RedirectStandardOutput = true })!;
            try
            {
                WaitForPort(port);
                Image = $"127.0.0.1:{port}/busybox:latest";
                var store = Path.Combine(directory, "root-store");
                MoatCli.Exec(Moat, ["--root", store, "import", "--change", "CMD [\"sh\"]", BusyboxTar(), Image]).Ok();
                MoatCli.Exec(Moat, ["--root", store, "push", "--tls-verify=false", Image]).Ok();
                Alice = new UserMoat("ra");
                owned.Add(Alice);
                Bob = new UserMoat("rb");
                owned.Add(Bob);
                Alice.Ok("pull", "--tls-verify=false", Image);
                Bob.Ok("pull", "--tls-verify=false", Image);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        string BusyboxTar()
        {
            var path = Path.Combine(directory, "busybox.tar");
            using var file = File.Create(path);
            using var tar = new TarWriter(file, TarEntryFormat.Pax);
            foreach (var d in new[] { "bin/", "etc/", "proc/", "sys/", "dev/", "tmp/" })
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, d) { Mode = (UnixFileMode)0x1ed });
            using (var busybox = File.OpenRead("/bin/busybox"))
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = (UnixFileMode)0x1ed, DataStream = busybox });
            foreach (var applet in new[] { "sh", "cat", "echo", "id", "sleep", "true", "ls", "mkdir", "httpd", "wget", "ip", "sed" })
                tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox" });
            using var passwd = new MemoryStream("root:x:0:0:root:/root:/bin/sh\n"u8.ToArray());
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "etc/passwd") { Mode = (UnixFileMode)0x1a4, DataStream = passwd });
            return path;
        }

        public static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        void WaitForPort(int port)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                if (registry.HasExited)
                    throw new InvalidOperationException("docker-registry exited at start: " + registry.StandardError.ReadToEnd());
                try
                {
                    using var probe = new TcpClient();
                    probe.Connect(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(50);
                }
            }
        }

        public void Dispose()
        {
            foreach (var d in owned)
            {
                try
                {
                    d.Dispose();
                }
                catch (Exception)
                {
                    // The next one is cleaned up all the same.
                }
            }
            if (!registry.HasExited)
                registry.Kill();
            registry.Dispose();
            Directory.Delete(directory, recursive: true);
        }
    }
}
