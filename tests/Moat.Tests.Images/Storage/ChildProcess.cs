using System.Diagnostics;

namespace Moat.Tests.Images.Storage;

/// <summary>A helper process (flock, sqlite3) that the test kills when it ends, whatever happened.</summary>
public sealed class ChildProcess : IDisposable
{
    readonly Process process;

    public ChildProcess(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
    }

    public int Id => process.Id;
    public bool HasExited => process.HasExited;
    public StreamWriter Input => process.StandardInput;

    /// <summary>Waits for one line on stdout (the child saying it is ready).</summary>
    public string ReadLine(TimeSpan timeout)
    {
        var line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(timeout))
            throw new TimeoutException($"the child process said nothing within {timeout}");
        return line.Result ?? throw new InvalidOperationException($"the child process ended without a line: {process.StandardError.ReadToEnd()}");
    }

    /// <summary>Waits for a line equal to <paramref name="expected"/>, skipping others (a shell's echoes of settings).</summary>
    public bool WaitForLine(string expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                return false;
            if (ReadLine(left) == expected)
                return true;
        }
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
            throw new TimeoutException($"the child process did not exit within {timeout}");
        return process.ExitCode;
    }

    /// <summary>SIGKILL: the child gets no chance to clean up, as in a crash.</summary>
    public void Kill()
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    public void Dispose()
    {
        try { Kill(); } catch (InvalidOperationException) { }
        process.Dispose();
    }
}
