using System.Diagnostics;
using System.Formats.Tar;

namespace Moat.Tests.Vm;

/// <summary>
/// Networks reach the guest: bin/moat (the engine) in a network namespace the test makes to play the
/// host, over a private --root, with two networks of its own. One VM on network A serves and
/// connects; containers of the container tier on A and B are its peers. Segmentation holds both
/// ways. A second VM with --network none sees only lo. Dispose removes containers, networks, mounts,
/// processes and the namespace (with every bridge, veth, tap and rule in it), also after a failure.
/// </summary>
public sealed class VmNetworkTests : IDisposable
{
    static readonly string Repo = FindRepo();
    static string MoatBinary => Path.Combine(Repo, "bin", "moat");
    readonly string name = "moatv-" + Guid.NewGuid().ToString("N")[..8];
    // Short: a container's attach socket path must stay under 108 bytes.
    readonly string root = Directory.CreateTempSubdirectory("mv").FullName;
    string NamespacePath => "/run/netns/" + name;

    static string FindRepo()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Moat.slnx")))
            dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("cannot find the repository (Moat.slnx)");
    }

    public VmNetworkTests()
    {
        try
        {
            Exec("ip", "netns", "add", name).Ok();
            Exec("ip", "-n", name, "link", "set", "lo", "up").Ok();
            Moat("import", "--change", "CMD [\"sh\"]", BuildImageTar(), "busybox").Ok();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Ok() => ExitCode == 0 ? Stdout : throw new Xunit.Sdk.XunitException(ToString());
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    Result Moat(params string[] arguments) =>
        Exec("nsenter", ["--net=" + NamespacePath, MoatBinary, "--root", Path.Combine(root, "s"), .. arguments]);

    static Result Exec(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        start.Environment["MOAT_MONITOR"] = Path.Combine(Repo, "bin", "moat-monitor");
        start.Environment["MOAT_RUNTIME"] = Path.Combine(Repo, "bin", "moat-runtime");
        start.Environment["MOAT_VM_DIR"] = VmTierTests.DataDirectory;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in 5 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The container's first global IPv4 address, as its own hosts file (kept by the engine) says.</summary>
    string AddressOf(string container) =>
        Moat("exec", container, "sh", "-c", "ip -4 -o addr show dev eth0 | sed -n 's/.* inet \\([0-9.]*\\)\\/.*/\\1/p'").Ok().Trim();

    /// <summary>What `nc` got from ADDRESS:PORT within a few seconds, run in CONTAINER ("" when refused or unreachable).</summary>
    string Fetch(string container, string address, int port) =>
        Moat("exec", container, "sh", "-c", $"nc -w 5 {address} {port} </dev/null 2>/dev/null; true").Stdout.Trim();

    [Fact]
    public void AGuestOnANetworkReachesItsPeersAndNotAnotherNetwork()
    {
        Moat("network", "create", "vma").Ok();
        Moat("network", "create", "vmb").Ok();
        // Peers of the container tier: a server on each network.
        Moat("run", "-d", "--name", "srv-a", "--network", "vma", "busybox", "nc", "-ll", "-p", "8080", "-e", "echo", "hello-from-a").Ok();
        Moat("run", "-d", "--name", "srv-b", "--network", "vmb", "busybox", "nc", "-ll", "-p", "8080", "-e", "echo", "hello-from-b").Ok();
        // The guest on A: a server of its own, and a client for the tests below.
        Moat("run", "-d", "--isolation", "vm", "--name", "guest", "--network", "vma", "busybox", "nc", "-ll", "-p", "9090", "-e", "echo", "hello-from-the-guest").Ok();

        // It is a guest: its own kernel; its eth0 has the veth's address and MTU, and a default route.
        Assert.NotEqual(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), Moat("exec", "guest", "uname", "-r").Ok().Trim());
        var (guest, a, b) = (AddressOf("guest"), AddressOf("srv-a"), AddressOf("srv-b"));
        Assert.StartsWith(string.Join('.', a.Split('.')[..2]), guest);
        Assert.Contains("default via", Moat("exec", "guest", "ip", "route").Ok());

        // Out of the guest: the peer on its network answers (by name too), the other network's does not.
        Assert.Equal("hello-from-a", Fetch("guest", a, 8080));
        Assert.Equal("hello-from-a", Fetch("guest", "srv-a", 8080));
        Assert.Equal("", Fetch("guest", b, 8080));
        Assert.Equal("hello-from-b", Fetch("srv-b", b, 8080)); // the other server does answer its own network

        // Into the guest: from its network yes, from the other no.
        Assert.Equal("hello-from-the-guest", Fetch("srv-a", guest, 9090));
        Assert.Equal("", Fetch("srv-b", guest, 9090));
    }

    [Fact]
    public void AGuestWithNetworkNoneHasOnlyLoopback()
    {
        var run = Moat("run", "--rm", "--isolation", "vm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net; uname -r");
        var lines = run.Ok().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("lo", lines[0]);
        Assert.NotEqual(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), lines[1]);
    }

    /// <summary>busybox (static: the guest runs it from the 9p share) with every applet.</summary>
    string BuildImageTar()
    {
        var path = Path.Combine(root, "image.tar");
        using var file = File.Create(path);
        using var tar = new TarWriter(file, TarEntryFormat.Pax);
        void Dir(string entry, UnixFileMode mode = (UnixFileMode)0x1ed) =>
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, entry) { Mode = mode, ModificationTime = DateTimeOffset.UnixEpoch });
        void Text(string entry, string content)
        {
            using var data = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry) { Mode = (UnixFileMode)0x1a4, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = data });
        }
        foreach (var d in new[] { "bin/", "etc/", "root/", "proc/", "sys/", "dev/" })
            Dir(d);
        Dir("tmp/", (UnixFileMode)0x3ff | UnixFileMode.StickyBit);
        using (var busybox = File.OpenRead("/bin/busybox"))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = (UnixFileMode)0x1ed, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = busybox });
        foreach (var applet in Exec("/bin/busybox", "--list").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(a => a != "busybox"))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox", ModificationTime = DateTimeOffset.UnixEpoch });
        Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
        Text("etc/group", "root:x:0:\n");
        return path;
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path.Combine(root, "s")))
            {
                var ids = Moat("ps", "-aq", "--no-trunc").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (ids.Length > 0)
                    Moat(["rm", "-f", .. ids]);
                Moat("network", "rm", "vma", "vmb");
            }
        }
        catch (Exception)
        {
            // The sweep below does what rm could not.
        }
        // Whatever is left: processes that name the root (QEMU, shims, monitors) or live in it, then its mounts.
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid) || pid == Environment.ProcessId)
                continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                var rootLink = new DirectoryInfo(Path.Combine(proc, "root")).ResolveLinkTarget(false)?.FullName ?? "";
                if (cmdline.Contains(root, StringComparison.Ordinal) || rootLink.StartsWith(root, StringComparison.Ordinal))
                    Process.GetProcessById(pid).Kill();
            }
            catch (Exception)
            {
            }
        }
        foreach (var mount in File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(root, StringComparison.Ordinal)).OrderByDescending(m => m.Length))
            Exec("umount", "-l", mount.Replace("\\040", " "));
        Exec("ip", "netns", "del", name);
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
