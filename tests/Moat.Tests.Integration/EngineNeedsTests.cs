using System.Net.Sockets;
using Moat.Tests.Integration.Infrastructure;

namespace Moat.Tests.Integration;

/// <summary>
/// What container engines ask of a runtime beyond the plain lifecycle, each found by driving Moat
/// from podman, containerd or dockerd (tests/Moat.Tests.Engines runs the engines themselves).
/// </summary>
public sealed class EngineNeedsTests
{
    [System.Runtime.InteropServices.DllImport("libc")]
    static extern int close(int fd);

    /// <summary>podman --read-only mounts /tmp, /run and /var/tmp as tmpfs with "tmpcopyup".</summary>
    [Fact]
    public void TmpcopyupFillsTheTmpfsWithWhatTheImageHadThere()
    {
        using var bundle = new TestBundle();
        var seedDir = Path.Combine(bundle.Rootfs, "tmp", "seed");
        Directory.CreateDirectory(seedDir);
        var seed = Path.Combine(seedDir, "file");
        File.WriteAllText(seed, "from the image\n");
        // Modes the container's root (without CAP_DAC_OVERRIDE in the default spec) can still read through.
        File.SetUnixFileMode(seed, (UnixFileMode)Convert.ToInt32("604", 8));
        File.SetUnixFileMode(seedDir, (UnixFileMode)Convert.ToInt32("751", 8));
        MoatCli.Exec("/bin/chown", ["-R", "65534:65534", seedDir]).Ok();
        File.CreateSymbolicLink(Path.Combine(bundle.Rootfs, "tmp", "link"), "/etc/passwd");
        bundle.Spec.Mounts!.Add(new Oci.Mount
        {
            Destination = "/tmp",
            Type = "tmpfs",
            Source = "tmpfs",
            Options = ["nosuid", "nodev", "tmpcopyup", "mode=1777"],
        });

        var output = bundle.Sh(
            "grep ' /tmp ' /proc/self/mountinfo | cut -d' ' -f9; cat /tmp/seed/file; stat -c '%u:%g %a' /tmp/seed /tmp/seed/file; " +
            "readlink /tmp/link; echo written > /tmp/new");

        var lines = output.Split('\n');
        Assert.Equal("tmpfs", lines[0]);
        Assert.Equal("from the image", lines[1]);
        Assert.Equal("65534:65534 751", lines[2]);
        Assert.Equal("65534:65534 604", lines[3]);
        Assert.Equal("/etc/passwd", lines[4]); // copied as a link, not followed
        Assert.False(File.Exists(Path.Combine(bundle.Rootfs, "tmp", "new")), "a write to the tmpfs reached the image");
    }

    [Fact]
    public void TmpcopyupOnABindMountIsRefused()
    {
        using var bundle = new TestBundle();
        bundle.Spec.Mounts!.Add(new Oci.Mount { Destination = "/mnt", Type = "bind", Source = bundle.Rootfs, Options = ["rbind", "tmpcopyup"] });

        var result = bundle.Run();

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("tmpcopyup", result.Stderr);
    }

    /// <summary>
    /// containerd's shim reads create's stdout and stderr to end-of-file before it calls start; with a
    /// terminal, the waiting init must hold the pty, not create's stdio (docker run -t hung on it).
    /// </summary>
    [Fact]
    public async Task CreatedContainerWithATerminalHoldsThePtyNotCreatesStdio()
    {
        using var bundle = new TestBundle("sh");
        bundle.Spec.Process!.Terminal = true;
        var socketPath = Path.Combine(bundle.Directory, "console.sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(socketPath));
        server.Listen(1);
        var received = Task.Run(() =>
        {
            using var connection = server.Accept();
            return SeccompListenerServer.ReceiveWithDescriptor((int)connection.Handle);
        });
        var id = bundle.NewId("ctty");
        bundle.Create(id, "--console-socket", socketPath).Ok();
        var (_, master) = await received;
        try
        {
            var pid = TestBundle.State(id).GetProperty("pid").GetInt32();
            foreach (var fd in new[] { 0, 1, 2 })
            {
                // A pty slave is a character device of major 136 (0x88); create's stdio here are files.
                var type = MoatCli.Exec(TestBundle.Busybox, ["stat", "-L", "-c", "%F %t", $"/proc/{pid}/fd/{fd}"]).Ok().Stdout.Trim();
                Assert.Equal("character special file 88", type);
            }
        }
        finally
        {
            close(master);
        }
    }
}
