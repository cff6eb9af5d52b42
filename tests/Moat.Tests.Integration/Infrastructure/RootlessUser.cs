namespace Moat.Tests.Integration.Infrastructure;

/// <summary>
/// A user without root made for the rootless tests (useradd gives it a subordinate range in
/// /etc/subuid and /etc/subgid), with a runtime directory of its own as $XDG_RUNTIME_DIR. Removed with
/// its files and ranges on dispose, also when a test failed.
/// </summary>
public sealed class RootlessUser : IDisposable
{
    public RootlessUser() : this("rl")
    {
    }

    /// <param name="tag">Two letters that keep users of different fixtures (run in parallel) apart.</param>
    internal RootlessUser(string tag)
    {
        MoatCli.RequireRoot();
        Name = $"moat-{tag}{Environment.ProcessId % 100000}";
        Run("/usr/sbin/userdel", "-r", Name);
        Run("/usr/sbin/useradd", "--no-create-home", "--shell", "/bin/sh", Name).Ok();
        Uid = uint.Parse(Run("/usr/bin/id", "-u", Name).Ok().Stdout.Trim());
        Gid = uint.Parse(Run("/usr/bin/id", "-g", Name).Ok().Stdout.Trim());
        SubordinateUid = RangeStart("/etc/subuid");
        SubordinateGid = RangeStart("/etc/subgid");
        RuntimeDirectory = Directory.CreateTempSubdirectory("moat-rl-run-").FullName;
        Run("/bin/chown", $"{Uid}:{Gid}", RuntimeDirectory).Ok();
        File.SetUnixFileMode(RuntimeDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Name { get; }
    public uint Uid { get; }
    public uint Gid { get; }
    public uint? SubordinateUid { get; }
    public uint? SubordinateGid { get; }
    public string RuntimeDirectory { get; }

    /// <summary>moat-runtime as this user, its state under $XDG_RUNTIME_DIR/moat (no --root: the default is under test).</summary>
    public MoatCli.Result Runtime(params string[] args) =>
        Run("/usr/sbin/runuser", ["-u", Name, "--", "/usr/bin/env", $"XDG_RUNTIME_DIR={RuntimeDirectory}", MoatCli.Binary, .. args]);

    public string StateDirectory(string id) => Path.Combine(RuntimeDirectory, "moat", id);

    uint? RangeStart(string file)
    {
        foreach (var line in File.ReadAllLines(file))
            if (line.Split(':') is [var user, var start, _] && user == Name)
                return uint.Parse(start);
        return null;
    }

    static MoatCli.Result Run(string file, params string[] args) => MoatCli.Exec(file, args);

    public void Dispose()
    {
        // Containers it left: force-delete as the user, then the user, its ranges and its directory.
        if (Directory.Exists(Path.Combine(RuntimeDirectory, "moat")))
            foreach (var dir in Directory.GetDirectories(Path.Combine(RuntimeDirectory, "moat")))
                if (File.Exists(Path.Combine(dir, "state.json")))
                    Runtime("delete", "--force", Path.GetFileName(dir));
        // SIGKILL is delivered asynchronously: userdel refuses a user whose processes still run, so wait them out.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            Run("/usr/bin/pkill", "-KILL", "-u", Name);
            if (Run("/usr/sbin/userdel", Name).ExitCode is 0 or 6 || DateTime.UtcNow > deadline)
                break;
            Thread.Sleep(50);
        }
        Directory.Delete(RuntimeDirectory, recursive: true);
    }
}
