using System.Diagnostics;
using System.Formats.Tar;

namespace Moat.Tests.Network;

public sealed record Result(int ExitCode, string Stdout, string Stderr)
{
    public string Ok() => ExitCode == 0 ? Stdout : throw new Xunit.Sdk.XunitException($"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// A host of the test's own: a network namespace (its bridges, its nftables table) with bin/moat run
/// inside it over a private --root, and a second namespace, "outside", linked to it by a veth
/// (host 10.255.0.1, outside 10.255.0.2) to play the world beyond. Nothing is attached to the
/// machine's interfaces or its ruleset; Dispose removes containers, mounts, processes and both
/// namespaces (which takes every bridge, veth and rule in them along), also after a failed test.
/// </summary>
public sealed class TestHost : IDisposable
{
    public const string HostUplink = "10.255.0.1", Outside = "10.255.0.2";
    static readonly Lazy<string> ImageTar = new(BuildImageTar);

    public string Name { get; }
    public string OutsideName { get; }
    public string Root { get; }
    public string StoreRoot => Path.Combine(Root, "s");
    public static string Repository { get; } = FindRepository();
    /// <summary>bin/moat; MOAT_TEST_BINARY names another build (a managed one while iterating).</summary>
    public static string MoatBinary => Environment.GetEnvironmentVariable("MOAT_TEST_BINARY") is { Length: > 0 } other ? other : Path.Combine(Repository, "bin", "moat");
    readonly List<Process> background = [];

    public TestHost()
    {
        if (!File.Exists(MoatBinary))
            throw new InvalidOperationException($"{MoatBinary} is missing: run `make build` first");
        Environment.SetEnvironmentVariable("MOAT_MONITOR", Path.Combine(Repository, "bin", "moat-monitor"));
        Environment.SetEnvironmentVariable("MOAT_RUNTIME", Path.Combine(Repository, "bin", "moat-runtime"));
        var tag = Guid.NewGuid().ToString("N")[..8];
        Name = "moatt-" + tag;
        OutsideName = "moatx-" + tag;
        // Short: a container's attach socket path must stay under 108 bytes.
        Root = Directory.CreateTempSubdirectory("mn").FullName;
        try
        {
            Exec("ip", "netns", "add", Name).Ok();
            Exec("ip", "netns", "add", OutsideName).Ok();
            Exec("ip", "-n", Name, "link", "set", "lo", "up").Ok();
            Exec("ip", "-n", OutsideName, "link", "set", "lo", "up").Ok();
            Exec("ip", "-n", Name, "link", "add", "uplink", "type", "veth", "peer", "name", "world", "netns", OutsideName).Ok();
            Exec("ip", "-n", Name, "addr", "add", HostUplink + "/24", "dev", "uplink").Ok();
            Exec("ip", "-n", Name, "link", "set", "uplink", "up").Ok();
            Exec("ip", "-n", OutsideName, "addr", "add", Outside + "/24", "dev", "world").Ok();
            Exec("ip", "-n", OutsideName, "link", "set", "world", "up").Ok();
            Moat("import", "--change", "CMD [\"sh\"]", ImageTar.Value, "busybox").Ok();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string NamespacePath => "/run/netns/" + Name;

    /// <summary>bin/moat with this host's root, inside this host's network namespace.</summary>
    public Result Moat(params string[] arguments) =>
        Exec("nsenter", ["--net=" + NamespacePath, MoatBinary, "--root", StoreRoot, .. arguments]);

    /// <summary>A command in the host's namespace (busybox there: the host's own tools).</summary>
    public Result OnHost(params string[] arguments) => Exec("nsenter", ["--net=" + NamespacePath, .. arguments]);

    /// <summary>A command in the outside namespace.</summary>
    public Result InOutside(params string[] arguments) => Exec("nsenter", ["--net=/run/netns/" + OutsideName, .. arguments]);

    /// <summary>A long-running command in the outside namespace (a server), killed on Dispose.</summary>
    public void StartOutside(params string[] arguments)
    {
        var start = new ProcessStartInfo("nsenter") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["--net=/run/netns/" + OutsideName, .. arguments]) start.ArgumentList.Add(a);
        background.Add(Process.Start(start)!);
    }

    /// <summary>Runs a detached container and returns its name.</summary>
    public string Detached(string name, params string[] arguments)
    {
        Moat(["run", "-d", "--name", name, .. arguments]).Ok();
        return name;
    }

    public Result InContainer(string container, string script) => Moat("exec", container, "sh", "-c", script);

    /// <summary>Polls until the condition holds (servers starting); fails with <paramref name="what"/> at the deadline.</summary>
    public static void Eventually(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"within {seconds} s: {what}");
            Thread.Sleep(100);
        }
    }

    /// <summary>The `inet moat` table in this host's namespace ("" when absent).</summary>
    public string Ruleset()
    {
        var listed = OnHost("nft", "list", "table", "inet", "moat");
        return listed.ExitCode == 0 ? listed.Stdout : "";
    }

    public static Result Exec(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in 2 minutes");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        foreach (var p in background)
        {
            try { p.Kill(entireProcessTree: true); p.WaitForExit(5000); } catch (Exception) { }
            p.Dispose();
        }
        try
        {
            if (Directory.Exists(StoreRoot))
            {
                var ids = Moat("ps", "-aq", "--no-trunc").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (ids.Length > 0)
                    Moat(["rm", "-f", .. ids]);
            }
        }
        catch (Exception)
        {
            // The sweep below does what rm could not.
        }
        Sweep(Root);
        Exec("ip", "netns", "del", Name);
        Exec("ip", "netns", "del", OutsideName);
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    /// <summary>Kills every process whose command line or root mentions the test root, then unmounts what is mounted below it (namespace files too).</summary>
    static void Sweep(string root)
    {
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
                // Gone meanwhile.
            }
        }
        var mounts = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(root, StringComparison.Ordinal)).OrderByDescending(m => m.Length).ToList();
        if (mounts.Count > 0)
            Thread.Sleep(200);
        foreach (var mount in mounts)
            Exec("umount", "-l", mount.Replace("\\040", " "));
    }

    /// <summary>busybox with every applet and netprobe (TCP/UDP client and server that report the peer's address).</summary>
    static string BuildImageTar()
    {
        var work = Directory.CreateTempSubdirectory("mnimg").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(work, recursive: true); } catch (IOException) { } };
        var probe = Path.Combine(work, "netprobe");
        File.WriteAllText(probe + ".c", NetProbe.Source);
        var gcc = Exec("gcc", "-static", "-O1", "-o", probe, probe + ".c");
        if (gcc.ExitCode != 0)
            throw new InvalidOperationException("gcc -static failed for netprobe: " + gcc.Stderr);
        var path = Path.Combine(work, "image.tar");
        using var file = File.Create(path);
        using var tar = new TarWriter(file, TarEntryFormat.Pax);
        void Dir(string name, UnixFileMode mode = (UnixFileMode)0x1ed) =>
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = mode, ModificationTime = DateTimeOffset.UnixEpoch });
        void Text(string name, string content)
        {
            using var data = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1a4, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = data });
        }
        void Binary(string name, string source)
        {
            using var data = File.OpenRead(source);
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1ed, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = data });
        }
        foreach (var d in new[] { "bin/", "etc/", "root/", "proc/", "sys/", "dev/" })
            Dir(d);
        Dir("tmp/", (UnixFileMode)0x3ff | UnixFileMode.StickyBit);
        Binary("bin/busybox", "/bin/busybox");
        Binary("bin/netprobe", probe);
        foreach (var applet in Exec("/bin/busybox", "--list").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(a => a != "busybox"))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox", ModificationTime = DateTimeOffset.UnixEpoch });
        Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
        Text("etc/group", "root:x:0:\nnogroup:x:65534:\n");
        return path;
    }

    static string FindRepository()
    {
        var directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Moat.slnx")))
            directory = Path.GetDirectoryName(directory);
        return directory ?? throw new InvalidOperationException("the repository root was not found");
    }
}
