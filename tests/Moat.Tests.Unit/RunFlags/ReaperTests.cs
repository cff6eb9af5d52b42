using System.Diagnostics;
using Moat.Tests.Unit.Native;
using Xunit;

namespace Moat.Tests.Unit.RunFlags;

/// <summary>native/moat-init.c compiled as the Makefile compiles it (static), once for the class.</summary>
public sealed class ReaperBinary : IDisposable
{
    readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("moat-init-test-");
    public string Path { get; }

    public ReaperBinary()
    {
        Path = System.IO.Path.Combine(directory.FullName, "moat-init");
        var (status, output) = ReaperTests.RunProcess("cc", ["-static", "-Os", "-s", "-Wall", "-Wextra", "-Werror", "-o", Path,
            System.IO.Path.Combine(CProbe.NativeDirectory, "moat-init.c")]);
        Assert.True(status == 0, "cc failed: " + output);
    }

    public void Dispose() => directory.Delete(recursive: true);
}

/// <summary>The reaper run for real: exit statuses, signals forwarded to the command's group, zombies reaped, as pid 1 too.</summary>
public sealed class ReaperTests(ReaperBinary reaper) : IClassFixture<ReaperBinary>
{
    internal static (int Status, string Output) RunProcess(string file, string[] args, Action<Process>? whileRunning = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            whileRunning?.Invoke(process);
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
                throw new TimeoutException($"{file} did not exit");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    (int Status, string Output) Run(params string[] command) => RunProcess(reaper.Path, ["--", .. command]);

    [Fact]
    public void IsStatic()
    {
        var (_, output) = RunProcess("file", ["-L", reaper.Path]);
        Assert.Contains("statically linked", output);
    }

    [Theory]
    [InlineData("exit 0", 0)]
    [InlineData("exit 3", 3)]
    [InlineData("exit 255", 255)]
    [InlineData("kill -9 $$", 137)]
    [InlineData("kill -TERM $$", 143)]
    public void ExitsWithTheCommandsStatus(string script, int status) => Assert.Equal(status, Run("/bin/sh", "-c", script).Status);

    [Fact]
    public void ACommandThatCannotRunIs127Or126()
    {
        var (status, output) = Run("/nonexistent/moat-command");
        Assert.Equal(127, status);
        Assert.Contains("moat-init: cannot run /nonexistent/moat-command: No such file or directory", output);
        var notExecutable = System.IO.Path.GetTempFileName(); // mode 0600: found, but not runnable
        try
        {
            Assert.Equal(126, Run(notExecutable).Status);
        }
        finally
        {
            File.Delete(notExecutable);
        }
        Assert.Equal(125, RunProcess(reaper.Path, []).Status);
    }

    [Fact]
    public void PassesArgumentsAndOutputThrough()
    {
        var (status, output) = RunProcess(reaper.Path, ["/bin/echo", "-n", "a b", "--", "c"]);
        Assert.Equal((0, "a b -- c"), (status, output));
    }

    [Fact]
    public void ForwardsSignalsToTheCommandsProcessGroup()
    {
        var ready = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"moat-init-ready-{Guid.NewGuid():N}");
        try
        {
            // The shell traps TERM; its child `sleep` (same group) is killed by it, so the trap runs at once.
            var (status, _) = RunProcess(reaper.Path, ["/bin/sh", "-c", $"trap 'exit 7' TERM; touch {ready}; while :; do sleep 1; done"], process =>
            {
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (!File.Exists(ready) && DateTime.UtcNow < deadline)
                    Thread.Sleep(10);
                Assert.True(File.Exists(ready), "the command did not start");
                Assert.Equal(0, kill(process.Id, 15));
            });
            Assert.Equal(7, status);
        }
        finally
        {
            File.Delete(ready);
        }
    }

    [Fact]
    public void ReapsOrphanedZombies()
    {
        // An orphan (the subshell's `true`) is re-parented to the reaper, exits, and must not stay a zombie.
        // The script waits for the orphan to finish, then polls (with a deadline) for zombie children of $PPID.
        var marker = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"moat-init-orphan-{Guid.NewGuid():N}");
        try
        {
            var script = $$"""
                (sh -c 'touch {{marker}}' &)
                i=0; while [ ! -e {{marker}} ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
                [ -e {{marker}} ] || exit 90
                i=0
                while [ $i -lt 500 ]; do
                    zombies=$(awk -v p=$PPID '$4 == p && $3 == "Z"' /proc/[0-9]*/stat 2>/dev/null | wc -l)
                    [ "$zombies" -eq 0 ] && exit 0
                    sleep 0.01; i=$((i+1))
                done
                exit 91
                """;
            Assert.Equal(0, Run("/bin/sh", "-c", script).Status);
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public void AsPid1InItsOwnPidNamespace()
    {
        if (geteuid() != 0 || !File.Exists("/usr/bin/unshare"))
            return; // needs root for a pid namespace: the other tests cover the behaviour as a subreaper
        var (status, output) = RunProcess("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", reaper.Path, "--", "/bin/sh", "-c",
            "echo pid=$PPID; (sleep 0.05 &); sleep 0.2; exit 5"]);
        Assert.Equal(5, status);
        Assert.Contains("pid=1", output);
        var (killed, _) = RunProcess("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", reaper.Path, "--", "/bin/sh", "-c", "kill -KILL $$"]);
        Assert.Equal(137, killed);
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    [System.Runtime.InteropServices.DllImport("libc")]
    static extern uint geteuid();
}
