using System.Diagnostics;

namespace Moat.Tests.Containers;

/// <summary>The README's first command: `make demo`'s script, on a store of its own, shows what the container sees and its protections.</summary>
public sealed class DemoTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("md").FullName;

    public void Dispose()
    {
        foreach (var line in File.ReadAllLines("/proc/self/mounts").Reverse())
        {
            var target = line.Split(' ')[1];
            if (target.StartsWith(root + "/", StringComparison.Ordinal))
                Process.Start("umount", ["-l", target])!.WaitForExit();
        }
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task The_demo_runs_a_container_from_a_local_image_and_shows_its_defaults()
    {
        var start = new ProcessStartInfo(Path.Combine(ContainerStore.Repository, "scripts", "demo.sh"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["MOAT_DEMO_ROOT"] = Path.Combine(root, "s");
        start.Environment["MOAT_DEMO_WORK"] = Path.Combine(root, "w");
        // Tests keep containers off the machine's real network (the network tests make namespaces of their own).
        start.Environment["MOAT_DEFAULT_NETWORK"] = "none";
        using var demo = Process.Start(start)!;
        var stderr = demo.StandardError.ReadToEndAsync();
        var output = await demo.StandardOutput.ReadToEndAsync();
        await demo.WaitForExitAsync();
        Assert.True(demo.ExitCode == 0, output + await stderr);
        Assert.Contains("moat-demo/busybox", output);
        Assert.Contains("hostname:          moat-demo", output);
        Assert.Contains("my pid:            1 ", output);
        Assert.Contains("capabilities:      14 of 41", output);
        Assert.Contains("seccomp:           mode 2", output);
        Assert.Contains("no_new_privs:      1", output);
        Assert.Contains("pids limit:        2048", output);
        Assert.Contains("/proc/kcore:       masked", output);
        Assert.Contains("/proc/sys:         read-only", output);
        Assert.Contains("mount:             refused", output);
        Assert.Contains("new user namespace: refused", output);
        // --rm: nothing is left of the container.
        var ps = Process.Start(new ProcessStartInfo(Path.Combine(ContainerStore.Repository, "bin", "moat"), ["--root", Path.Combine(root, "s"), "ps", "-aq"]) { RedirectStandardOutput = true })!;
        Assert.Equal("", ps.StandardOutput.ReadToEnd().Trim());
        ps.WaitForExit();
    }
}
