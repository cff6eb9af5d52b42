namespace Moat.Tests.Integration.Infrastructure;

/// <summary>
/// runc, the reference runtime ($RUNC_BINARY or /usr/sbin/runc), with a state root private to one
/// instance. Every container it ran is force-deleted and the state root removed on dispose, also when
/// the test failed.
/// </summary>
public sealed class RuncCli : IDisposable
{
    static int counter;
    readonly List<string> ids = [];

    public RuncCli()
    {
        MoatCli.RequireRoot();
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"{Binary} does not exist: the differential tests need runc (apt-get install runc, or set RUNC_BINARY)");
        Root = $"/run/moat-it-runc-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}";
    }

    public static string Binary { get; } = Environment.GetEnvironmentVariable("RUNC_BINARY") is { Length: > 0 } path
        ? path
        : "/usr/sbin/runc";

    /// <summary>The installed runc's version, from the first line of `runc --version` ("runc version 1.1.5+ds1").</summary>
    public static Version Version => version.Value;

    static readonly Lazy<Version> version = new(() =>
    {
        var line = MoatCli.Exec(Binary, ["--version"]).Ok().Stdout.Split('\n')[0];
        var number = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last();
        var core = number.Split('-', '+', '~')[0];
        return Version.TryParse(core, out var parsed)
            ? parsed
            : throw new InvalidOperationException($"cannot parse the runc version from \"{line}\"");
    });

    /// <summary>runc's --root: where it keeps its container state.</summary>
    public string Root { get; }

    /// <summary>Runs the bundle (its config.json as written) in the foreground under a fresh container id.</summary>
    public MoatCli.Result Run(string bundleDirectory)
    {
        var id = $"runc-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}";
        ids.Add(id);
        return MoatCli.Exec(Binary, ["--root", Root, "run", "--bundle", bundleDirectory, id]);
    }

    /// <summary>Creates and starts the bundle under a fresh container id, detached; returns the id.</summary>
    public string CreateAndStart(string bundleDirectory)
    {
        var id = $"runc-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}";
        ids.Add(id);
        MoatCli.Exec(Binary, ["--root", Root, "create", "--bundle", bundleDirectory, id]).Ok();
        MoatCli.Exec(Binary, ["--root", Root, "start", id]).Ok();
        return id;
    }

    /// <summary>runc exec with runc's own flags and command.</summary>
    public MoatCli.Result Exec(params string[] args) => MoatCli.Exec(Binary, ["--root", Root, "exec", .. args]);

    public void Dispose()
    {
        // `runc run` deletes its container when it exits; this covers a run that failed or timed out.
        foreach (var id in ids)
            MoatCli.Exec(Binary, ["--root", Root, "delete", "--force", id]);
        try
        {
            if (Directory.Exists(Root))
                Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A container runc could not delete keeps its state; the test has failed already.
        }
    }
}
