using System.Diagnostics;

namespace Moat.Tests.Integration.Infrastructure;

/// <summary>Runs the real moat binary (bin/moat-runtime, or $MOAT_BINARY) with a state root private to the test run.</summary>
public static class MoatCli
{
    public static string Binary { get; } = Environment.GetEnvironmentVariable("MOAT_BINARY") is { Length: > 0 } path
        ? path
        : Path.Combine(RepositoryRoot, "bin", "moat-runtime");

    public static string StateRoot { get; } = $"/run/moat-it-{Environment.ProcessId}";

    static MoatCli()
    {
        // Every test force-deletes its containers; what remains at exit is the (empty) state root
        // and the seccomp cache moat keeps beside it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var dir in new[] { StateRoot, StateRoot + ".cache" })
            {
                try
                {
                    if (Directory.Exists(dir))
                        Directory.Delete(dir, recursive: true);
                }
                catch (IOException)
                {
                    // Busy: a test failed to delete a container; that test has failed already.
                }
            }
        };
    }

    public static string RepositoryRoot
    {
        get
        {
            var dir = AppContext.BaseDirectory;
            while (dir is not null && !File.Exists(Path.Combine(dir, "Moat.slnx")))
                dir = Path.GetDirectoryName(dir);
            return dir ?? throw new InvalidOperationException("cannot find the repository root (Moat.slnx)");
        }
    }

    public static Result Run(params string[] args) => Exec(Binary, ["--root", StateRoot, .. args]);

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public Result Ok()
        {
            if (ExitCode != 0)
                throw new Xunit.Sdk.XunitException($"expected success, got exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}");
            return this;
        }

        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    /// <summary>
    /// Runs a program with a time limit: a hung container must fail the test, not the run. Output goes
    /// to files, not pipes: a created container's init keeps the caller's stdio open until it exits.
    /// </summary>
    public static Result Exec(string file, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        if (!File.Exists(file))
            throw new InvalidOperationException($"{file} does not exist: run `make build` first");
        var outFile = Path.GetTempFileName();
        var errFile = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >\"$MOAT_TEST_OUT\" 2>\"$MOAT_TEST_ERR\"");
            start.ArgumentList.Add(file);
            foreach (var a in args)
                start.ArgumentList.Add(a);
            start.Environment["MOAT_TEST_OUT"] = outFile;
            start.Environment["MOAT_TEST_ERR"] = errFile;
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

    public static void RequireRoot()
    {
        if (Environment.UserName != "root" && geteuid() != 0)
            throw new InvalidOperationException("the integration tests run real containers and need root");
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern uint geteuid();
}
