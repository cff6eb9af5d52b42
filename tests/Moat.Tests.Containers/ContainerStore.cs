using System.Diagnostics;
using System.Formats.Tar;
using System.Text.Json;
using Moat.Tests.Images.Cli;
using Moat.Tests.Images.Registry;

namespace Moat.Tests.Containers;

/// <summary>
/// A temporary store (`--root`) with the busybox image imported as `busybox`, shared by a test class; on
/// dispose every container in it is removed, and whatever a failed test left (monitors, container
/// processes, mounts) is killed and unmounted before the directory goes.
/// </summary>
public sealed class ContainerStore : IDisposable
{
    static readonly Lazy<string> ImageTar = new(BuildImageTar);

    public string Root { get; }
    public MoatProcess Moat { get; }
    public static string Repository { get; } = FindRepository();

    public ContainerStore()
    {
        Environment.SetEnvironmentVariable("MOAT_MONITOR", Path.Combine(Repository, "bin", "moat-monitor"));
        Environment.SetEnvironmentVariable("MOAT_RUNTIME", Path.Combine(Repository, "bin", "moat-runtime"));
        // These tests run in the machine's own network namespace: no bridge or firewall there (tests/Moat.Tests.Network has its own hosts).
        Environment.SetEnvironmentVariable("MOAT_DEFAULT_NETWORK", "none");
        // Short: a container's attach socket path (root/containers/<64 hex>/attach.sock) must stay under 108 bytes.
        Root = Directory.CreateTempSubdirectory("mc").FullName;
        Moat = new MoatProcess(Path.Combine(Root, "s"));
        Moat.Ok("import", "--change", "CMD [\"sh\"]", ImageTar.Value, "busybox");
    }

    public string Ok(params string[] arguments) => Moat.Ok(arguments);
    public MoatResult Run(params string[] arguments) => Moat.Run(arguments);

    /// <summary>Runs moat, reads its output until <paramref name="until"/> appears, runs <paramref name="then"/>, and returns all the output once moat ends by itself.</summary>
    public async Task<string> FollowAsync(string[] arguments, string until, Action then)
    {
        var start = new ProcessStartInfo(MoatProcess.Binary) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in (string[])["--root", Moat.Root, .. arguments]) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = new System.Text.StringBuilder();
        try
        {
            while (!output.ToString().Contains(until, StringComparison.Ordinal))
            {
                var line = await process.StandardOutput.ReadLineAsync(deadline.Token) ?? throw new InvalidOperationException($"moat ended before \"{until}\": {output}");
                output.Append(line).Append('\n');
            }
            then();
            output.Append(await process.StandardOutput.ReadToEndAsync(deadline.Token));
            await process.WaitForExitAsync(deadline.Token);
            return output.ToString();
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    /// <summary>Whether a process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>`inspect` of one container as a JSON element.</summary>
    public JsonElement Inspect(string container)
    {
        using var document = JsonDocument.Parse(Ok("inspect", container));
        return document.RootElement[0].Clone();
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> at the deadline (never asserts a time, only bounds the wait).</summary>
    public static void Eventually(Func<bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"within {seconds} s: {what}");
            Thread.Sleep(100);
        }
    }

    /// <summary>bin/busybox with every applet, /etc/passwd and group, /tmp: the image every test runs.</summary>
    static string BuildImageTar()
    {
        var path = Path.Combine(Path.GetTempPath(), $"moat-busybox-{Environment.ProcessId}.tar");
        using var file = File.Create(path);
        using var tar = new TarWriter(file, TarEntryFormat.Pax);
        void Dir(string name, UnixFileMode mode = (UnixFileMode)0x1ed) =>
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = mode, ModificationTime = DateTimeOffset.UnixEpoch });
        void Text(string name, string content)
        {
            using var data = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content));
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1a4, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = data });
        }
        foreach (var d in new[] { "bin/", "etc/", "root/", "proc/", "sys/", "dev/", "data/" })
            Dir(d);
        Dir("tmp/", (UnixFileMode)0x3ff | UnixFileMode.StickyBit);
        using (var busybox = File.OpenRead("/bin/busybox"))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = (UnixFileMode)0x1ed, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = busybox });
        var applets = Tool.Run("/bin/busybox", "--list").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var applet in applets.Where(a => a != "busybox"))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "bin/" + applet) { LinkName = "busybox", ModificationTime = DateTimeOffset.UnixEpoch });
        Text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
        Text("etc/group", "root:x:0:\nnogroup:x:65534:\n");
        Text("data/seed", "from the image\n");
        return path;
    }

    static string FindRepository()
    {
        var directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Moat.slnx")))
            directory = Path.GetDirectoryName(directory);
        return directory ?? throw new InvalidOperationException("the repository root was not found");
    }

    public void Dispose()
    {
        try
        {
            var ids = Moat.Run("ps", "-aq", "--no-trunc").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (ids.Length > 0)
                Moat.Run(["rm", "-f", .. ids]);
        }
        catch (Exception)
        {
            // Whatever rm could not do, the sweep below does.
        }
        Sweep(Root);
        Directory.Delete(Root, recursive: true);
    }

    /// <summary>Kills every process whose command line or executable mentions the root (monitors, container inits), then unmounts what is mounted below it.</summary>
    public static void Sweep(string root)
    {
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid) || pid == Environment.ProcessId)
                continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                var cwd = new DirectoryInfo(Path.Combine(proc, "root")).ResolveLinkTarget(false)?.FullName ?? "";
                if (cmdline.Contains(root, StringComparison.Ordinal) || cwd.StartsWith(root, StringComparison.Ordinal))
                    Process.GetProcessById(pid).Kill();
            }
            catch (Exception)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
        Thread.Sleep(200);
        var mounts = File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(root, StringComparison.Ordinal)).OrderByDescending(m => m.Length);
        foreach (var mount in mounts)
            Tool.Run("umount", "-l", mount.Replace("\\040", " "));
    }
}
