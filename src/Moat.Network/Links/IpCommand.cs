using System.Diagnostics;

namespace Moat.Network.Links;

/// <summary>
/// iproute2's `ip -batch -`: links, addresses and routes in the engine's network namespace, or, through
/// util-linux's nsenter, in a container's (ip cannot enter a namespace given by path itself). One process
/// per batch keeps a container's setup to two execs.
/// </summary>
public static class IpCommand
{
    /// <summary>Runs the lines in the calling process's network namespace, or in the one bind-mounted at <paramref name="namespacePath"/>.</summary>
    public static void Batch(IEnumerable<string> lines, string? namespacePath = null, bool ignoreErrors = false)
    {
        var script = string.Join('\n', lines) + "\n";
        if (script.Trim().Length == 0)
            return;
        var start = namespacePath is null
            ? new ProcessStartInfo("ip")
            : new ProcessStartInfo("nsenter") { ArgumentList = { "--net=" + namespacePath, "ip" } };
        if (ignoreErrors) start.ArgumentList.Add("-force");
        start.ArgumentList.Add("-batch");
        start.ArgumentList.Add("-");
        start.RedirectStandardInput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        start.UseShellExecute = false;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new NetworkException(namespacePath is null
                ? "ip (iproute2) is not installed: networks need it"
                : "nsenter (util-linux) or ip (iproute2) is not installed: networks need them", e);
        }
        using (process)
        {
            process.StandardInput.Write(script);
            process.StandardInput.Close();
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 && !ignoreErrors)
            {
                var errors = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var reason = errors.FirstOrDefault(l => !l.StartsWith("Command failed", StringComparison.Ordinal)) ?? $"exit status {process.ExitCode}";
                // "Command failed -:N" names the line of the batch: say which command it was.
                var failed = errors.Select(l => l.StartsWith("Command failed -:", StringComparison.Ordinal) && int.TryParse(l["Command failed -:".Length..], out var n) ? n : 0).FirstOrDefault(n => n > 0);
                var command = failed > 0 && script.Split('\n') is { } all && failed <= all.Length ? $" (ip {all[failed - 1]})" : "";
                throw new NetworkException($"ip could not set up the network{(namespacePath is null ? "" : " in the container's namespace")}: {reason.TrimEnd('.')}{command}");
            }
        }
    }

    /// <summary>Whether an interface of that name exists in the engine's namespace.</summary>
    public static bool LinkExists(string name) => Moat.Interop.Libc.InterfaceExists(name);

    /// <summary>Writes a per-namespace sysctl under /proc/sys/net of the engine's namespace.</summary>
    public static void Sysctl(string path, string value)
    {
        var full = Path.Combine("/proc/sys/net", path);
        try
        {
            if (File.ReadAllText(full).Trim() != value)
                File.WriteAllText(full, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NetworkException($"cannot set net.{path.Replace('/', '.')} to {value}: {e.Message}", e);
        }
    }
}
