using System.Text.Json;
using Moat.Oci;

namespace Moat.Tests.Integration.Infrastructure;

/// <summary>
/// A busybox-static bundle in a fresh temporary directory, with the config `moat spec` writes made
/// non-interactive. Every container id it hands out is force-deleted and the directory removed on
/// dispose, also when the test failed.
/// </summary>
public sealed class TestBundle : IDisposable
{
    static int counter;
    readonly List<string> ids = [];

    public TestBundle(params string[] args)
    {
        MoatCli.RequireRoot();
        Directory = System.IO.Directory.CreateTempSubdirectory("moat-it-").FullName;
        // Traversable by a container root mapped to an unprivileged host id.
        File.SetUnixFileMode(Directory, (UnixFileMode)Convert.ToInt32("755", 8));
        Rootfs = Path.Combine(Directory, "rootfs");
        BuildRootfs(Rootfs);
        Spec = DefaultSpec.Create(rootless: false);
        Spec.Process!.Terminal = false;
        Spec.Process.Args = args.Length > 0 ? [.. args] : ["true"];
    }

    public string Directory { get; }
    public string Rootfs { get; }
    public Spec Spec { get; }

    public static string Busybox { get; } = new[] { "/bin/busybox", "/usr/bin/busybox" }.First(File.Exists);

    static void BuildRootfs(string rootfs)
    {
        foreach (var dir in new[] { "bin", "etc", "proc", "sys", "dev", "tmp", "root" })
            System.IO.Directory.CreateDirectory(Path.Combine(rootfs, dir));
        File.Copy(Busybox, Path.Combine(rootfs, "bin", "busybox"));
        var list = MoatCli.Exec(Busybox, ["--list"]).Ok().Stdout;
        foreach (var applet in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (applet != "busybox")
                File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n");
        File.WriteAllText(Path.Combine(rootfs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
    }

    /// <summary>A container id unique to this test run.</summary>
    public string NewId(string prefix = "t")
    {
        var id = $"{prefix}-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}";
        ids.Add(id);
        return id;
    }

    public void Write() => File.WriteAllText(Path.Combine(Directory, "config.json"), OciJson.Serialize(Spec));

    public void Args(params string[] args) => Spec.Process!.Args = [.. args];

    /// <summary>Writes the config and runs the container in the foreground.</summary>
    public MoatCli.Result Run(params string[] extra)
    {
        Write();
        return MoatCli.Run(["run", "--bundle", Directory, .. extra, NewId()]);
    }

    /// <summary>Runs `sh -c script` in the container and returns its stdout, failing on a non-zero exit.</summary>
    public string Sh(string script)
    {
        Args("sh", "-c", script);
        return Run().Ok().Stdout;
    }

    public MoatCli.Result Create(string id, params string[] extra)
    {
        Write();
        return MoatCli.Run(["create", "--bundle", Directory, .. extra, id]);
    }

    public static JsonElement State(string id) =>
        JsonDocument.Parse(MoatCli.Run("state", id).Ok().Stdout).RootElement;

    public static string Status(string id) => State(id).GetProperty("status").GetString()!;

    public void Dispose()
    {
        foreach (var id in ids)
            MoatCli.Run("delete", "--force", id);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A mount left by a failed test keeps the directory busy; the test has failed already.
        }
    }
}
