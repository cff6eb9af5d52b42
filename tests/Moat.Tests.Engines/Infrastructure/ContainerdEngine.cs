namespace Moat.Tests.Engines.Infrastructure;

/// <summary>
/// containerd driven by ctr, the runc v2 shim pointed at Moat (the BinaryName option, which
/// `ctr run --runc-binary` sets), Moat's state under the private directory, containers in a cgroup
/// parent of their own.
/// </summary>
public sealed class ContainerdEngine : IDisposable
{
    public ContainerdEngine()
    {
        var moat = Host.Moat;
        Directory = System.IO.Directory.CreateTempSubdirectory("moat-containerd-").FullName;
        CgroupParent = $"/moat-engines-ctr-{Environment.ProcessId}";
        try
        {
            Daemon = new ContainerdDaemon(Path.Combine(Directory, "containerd"));
            Image = new BusyboxImage(Path.Combine(Directory, "image"));
            Daemon.Ctr("images", "import", Image.OciArchive).Ok();
            RuntimeFlags =
            [
                "--runc-binary", moat,
                "--runc-root", Path.Combine(Directory, "moat-state"),
                "--fifo-dir", Path.Combine(Directory, "fifo"),
            ];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Directory { get; }
    public string CgroupParent { get; }
    public ContainerdDaemon Daemon { get; } = null!;
    public BusyboxImage Image { get; } = null!;
    public string[] RuntimeFlags { get; } = [];

    /// <summary>`ctr run` with Moat as the shim's runtime: options, then the image, the id and the command.</summary>
    public Host.Result Run(string[] options, string id, params string[] command) =>
        Daemon.Ctr(["run", .. RuntimeFlags, "--cgroup", $"{CgroupParent}/{id}", .. options, BusyboxImage.Reference, id, .. command]);

    public Host.Result Ctr(params string[] args) => Daemon.Ctr(args);

    /// <summary>ctr with a terminal of its own (script(1) gives it a pty), for --tty.</summary>
    public Host.Result CtrOnTerminal(string stdin, params string[] args)
    {
        var all = new[] { ContainerdDaemon.CtrPath, "--address", Daemon.Socket, "--namespace", ContainerdDaemon.Namespace }.Concat(args);
        var command = string.Join(' ', all.Select(s => "'" + s.Replace("'", "'\\''") + "'"));
        return Host.Run("/usr/bin/script", ["-qec", command, "/dev/null"], stdin: stdin);
    }

    public void Dispose()
    {
        try
        {
            Daemon?.Dispose();
        }
        finally
        {
            Leftovers.RemoveCgroup(CgroupParent);
            Leftovers.RemoveDirectory(Directory);
        }
    }
}
