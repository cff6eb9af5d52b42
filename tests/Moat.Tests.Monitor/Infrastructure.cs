using System.Diagnostics;

namespace Moat.Tests.Monitor;

public static class Paths
{
    public static string RepositoryRoot
    {
        get
        {
            var dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir, "Moat.slnx")))
                dir = Path.GetDirectoryName(dir);
            return dir ?? throw new InvalidOperationException("cannot find the repository root (Moat.slnx)");
        }
    }

    public static string Runtime => Existing(Environment.GetEnvironmentVariable("MOAT_BINARY") is { Length: > 0 } p ? p : System.IO.Path.Combine(RepositoryRoot, "bin", "moat-runtime"));
    public static string Monitor => Existing(Environment.GetEnvironmentVariable("MOAT_MONITOR") is { Length: > 0 } p ? p : System.IO.Path.Combine(RepositoryRoot, "bin", "moat-monitor"));

    static string Existing(string path) => File.Exists(path) ? path : throw new InvalidOperationException($"{path} does not exist: run `make build` first");

    public static void RequireRoot()
    {
        if (geteuid() != 0)
            throw new InvalidOperationException("the monitor tests run real containers and need root");
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern uint geteuid();
}

/// <summary>The busybox bundle of scripts/make-bundle.sh, made once per test run; each container's config.json points at its rootfs (read-only).</summary>
public static class SharedBundle
{
    static readonly Lazy<string> path = new(() =>
    {
        var dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"moat-monitor-bundle-{Environment.ProcessId}");
        Tool.Run(System.IO.Path.Combine(Paths.RepositoryRoot, "scripts", "make-bundle.sh"), [dir]).Ok();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return dir;
    });

    public static string Path => path.Value;
}

public static class Tool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public Result Ok() => ExitCode == 0 ? this : throw new Xunit.Sdk.XunitException($"expected success, got {this}");
        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    /// <summary>Runs a program to its end with a time limit; output through files (a container may keep inherited pipes open).</summary>
    public static Result Run(string file, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var outFile = Path.GetTempFileName();
        var errFile = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >\"$T_OUT\" 2>\"$T_ERR\"");
            start.ArgumentList.Add(file);
            foreach (var a in args)
                start.ArgumentList.Add(a);
            start.Environment["T_OUT"] = outFile;
            start.Environment["T_ERR"] = errFile;
            using var process = Process.Start(start)!;
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in time");
            }
            return new Result(process.ExitCode, File.ReadAllText(outFile), File.ReadAllText(errFile));
        }
        finally
        {
            File.Delete(outFile);
            File.Delete(errFile);
        }
    }
}

public static class Wait
{
    /// <summary>Polls until the condition holds; fails with the description past the deadline (never a timing assertion: the deadline is generous).</summary>
    public static void Until(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException(describe());
            Thread.Sleep(20);
        }
    }
}
