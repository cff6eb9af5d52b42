using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Moat.Tests.Images.Registry;

/// <summary>Runs the command-line tools the fixtures use (openssl, htpasswd, skopeo) and finds free ports.</summary>
public static class Tool
{
    /// <summary>Runs a program to completion; a non-zero exit throws with its output, so a fixture failure says why.</summary>
    public static string Run(string program, params string[] arguments) => RunWithInput(program, null, arguments);

    public static string RunWithInput(string program, string? input, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        if (input is not null) { process.StandardInput.Write(input); process.StandardInput.Close(); }
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish in 3 minutes");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr.Result}{stdout}");
        return stdout;
    }

    /// <summary>A port nobody listens on right now (the kernel picks it; the tiny race is acceptable in tests).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A long-running child whose output is kept (for the error when it dies) and which is killed on dispose.</summary>
    public sealed class Background : IDisposable
    {
        readonly Process process;
        readonly StringBuilder output = new();

        public Background(string program, params string[] arguments)
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public int Pid => process.Id;
        public bool HasExited => process.HasExited;
        public string Output { get { lock (output) return output.ToString(); } }

        /// <summary>SIGKILL, and wait until it is gone (its sockets closed).</summary>
        public void Kill()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: false);
            process.WaitForExit();
        }

        public void Dispose()
        {
            try { Kill(); } catch (InvalidOperationException) { }
            process.Dispose();
        }
    }
}
