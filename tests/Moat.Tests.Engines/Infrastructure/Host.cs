using System.Diagnostics;

namespace Moat.Tests.Engines.Infrastructure;

/// <summary>Programs run with a time limit, output in files (a daemon's children may keep pipes open for ever).</summary>
public static class Host
{
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

    /// <summary>bin/moat-runtime, or $MOAT_BINARY.</summary>
    public static string Moat
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("MOAT_BINARY") is { Length: > 0 } p ? p : Path.Combine(RepositoryRoot, "bin", "moat-runtime");
            if (!File.Exists(path))
                throw new InvalidOperationException($"{path} does not exist: run `make build` first");
            return path;
        }
    }

    /// <summary>
    /// Fails (never skips) with the exact reason when the host cannot run an engine: not root, or a
    /// program missing that scripts/install-deps.sh installs.
    /// </summary>
    public static void Require(params string[] programs)
    {
        if (Environment.UserName != "root")
            throw new InvalidOperationException("the engine tests start daemons and containers: run them as root");
        foreach (var program in programs)
            if (!File.Exists(program))
                throw new InvalidOperationException($"{program} is missing: run scripts/install-deps.sh (it installs podman, conmon, containerd and docker.io)");
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr, string Command)
    {
        public Result Ok()
        {
            if (ExitCode != 0)
                throw new Xunit.Sdk.XunitException($"`{Command}` failed: {this}");
            return this;
        }

        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    /// <summary>Runs a program to its end; a hang past the limit is killed and fails the test.</summary>
    public static Result Run(string file, IEnumerable<string> args, IDictionary<string, string>? env = null,
        string? stdin = null, TimeSpan? timeout = null)
    {
        var argList = args.ToList();
        var command = string.Join(' ', [file, .. argList]);
        var outFile = Path.GetTempFileName();
        var errFile = Path.GetTempFileName();
        var inFile = Path.GetTempFileName();
        try
        {
            File.WriteAllText(inFile, stdin ?? "");
            var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("exec \"$0\" \"$@\" <\"$ENGINE_TEST_IN\" >\"$ENGINE_TEST_OUT\" 2>\"$ENGINE_TEST_ERR\"");
            start.ArgumentList.Add(file);
            foreach (var a in argList)
                start.ArgumentList.Add(a);
            start.Environment["ENGINE_TEST_IN"] = inFile;
            start.Environment["ENGINE_TEST_OUT"] = outFile;
            start.Environment["ENGINE_TEST_ERR"] = errFile;
            foreach (var (key, value) in env ?? new Dictionary<string, string>())
                start.Environment[key] = value;
            using var process = Process.Start(start)!;
            var limit = timeout ?? TimeSpan.FromSeconds(120);
            if (!process.WaitForExit(limit))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new Xunit.Sdk.XunitException($"`{command}` did not finish within {limit.TotalSeconds} s\nstdout: {File.ReadAllText(outFile)}\nstderr: {File.ReadAllText(errFile)}");
            }
            return new Result(process.ExitCode, File.ReadAllText(outFile), File.ReadAllText(errFile), command);
        }
        finally
        {
            File.Delete(outFile);
            File.Delete(errFile);
            File.Delete(inFile);
        }
    }

    /// <summary>Starts a daemon in the background, its output appended to a log file.</summary>
    public static Process Start(string file, IEnumerable<string> args, string logFile, IDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" </dev/null >>\"$ENGINE_TEST_LOG\" 2>&1");
        start.ArgumentList.Add(file);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["ENGINE_TEST_LOG"] = logFile;
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
            start.Environment[key] = value;
        return Process.Start(start)!;
    }

    /// <summary>Polls until a condition holds; false when the deadline passes first.</summary>
    public static bool WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
                return true;
            Thread.Sleep(100);
        }
        return condition();
    }

    /// <summary>SIGTERM, then SIGKILL if it has not gone when the grace period ends.</summary>
    public static void Stop(Process process, TimeSpan grace)
    {
        if (process.HasExited)
            return;
        Signal(process.Id, 15);
        if (!process.WaitForExit(grace))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    public static void Signal(int pid, int signal) => kill(pid, signal);

    /// <summary>Processes whose command line contains the text (e.g. a private socket path), but not this one.</summary>
    public static IEnumerable<int> ProcessesWith(string text)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
                continue;
            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue;
            }
            if (cmdline.Contains(text, StringComparison.Ordinal))
                yield return pid;
        }
    }
}
