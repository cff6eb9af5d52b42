using System.Diagnostics;
using System.Text.Json;

namespace Moat.Engine.Runtime;

/// <summary>
/// The OCI runtime's command line (runc's: state, kill, delete, pause, resume, update, ps, events), run from
/// the engine for the verbs that need no monitor. Global flags (`--root DIR`) come first.
/// </summary>
public sealed class RuntimeClient(string executable, IReadOnlyList<string> globalArgs)
{
    public string Executable { get; } = executable;
    public IReadOnlyList<string> GlobalArgs { get; } = globalArgs;

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public Result Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var a in GlobalArgs) start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new EngineException($"cannot start the OCI runtime {Executable}");
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return new Result(process.ExitCode, stdout, stderr.Result);
    }

    /// <summary>Runs a verb that must succeed; its failure is the runtime's own message.</summary>
    public string Must(string what, params string[] arguments)
    {
        var result = Run(arguments);
        if (result.ExitCode != 0)
            throw new EngineException($"{what} failed: {Message(result)}");
        return result.Stdout;
    }

    static string Message(Result result)
    {
        var text = result.Stderr.Trim();
        if (text.Length == 0) text = result.Stdout.Trim();
        if (text.Length == 0) text = $"the runtime exited with status {result.ExitCode}";
        // The runtime writes "Error: sentence" (or runc's logfmt); keep the sentence.
        var line = text.Split('\n')[^1];
        return line.StartsWith("Error: ", StringComparison.Ordinal) ? line[7..] : line;
    }

    /// <summary>The runtime's status (created, running, paused, stopped) and pid; null when it knows no such container.</summary>
    public (string Status, int Pid)? State(string id)
    {
        var result = Run("state", id);
        if (result.ExitCode != 0)
            return null;
        try
        {
            using var document = JsonDocument.Parse(result.Stdout);
            var root = document.RootElement;
            var status = root.TryGetProperty("status", out var s) ? s.GetString() ?? "" : "";
            var pid = root.TryGetProperty("pid", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : 0;
            return (status, pid);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public bool Kill(string id, string signal, bool all = false)
    {
        var result = all ? Run("kill", "--all", id, signal) : Run("kill", id, signal);
        return result.ExitCode == 0;
    }

    /// <summary>Deletes the runtime's container (forced: also a running one); absent is fine.</summary>
    public void Delete(string id) => Run("delete", "--force", id);

    /// <summary>The host pids of the container's processes.</summary>
    public IReadOnlyList<int> Processes(string id)
    {
        var output = Must("ps", "ps", "--format", "json", id);
        using var document = JsonDocument.Parse(output.Trim().Length == 0 ? "[]" : output);
        return document.RootElement.ValueKind == JsonValueKind.Array
            ? document.RootElement.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Number).Select(e => e.GetInt32()).ToList()
            : [];
    }
}
