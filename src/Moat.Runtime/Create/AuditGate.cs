using System.Text;
using System.Text.Json;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Create;

/// <summary>
/// The annotation run.moat.audit=enforce|warn on a bundle makes `create` audit its config first (issue
/// 18): enforce refuses the container when a finding is at or above run.moat.audit.fail-on (default
/// high), warn prints them. The audit is `moat audit --bundle` run as its own process, so none of its
/// code is in this binary and a config without the annotation pays one dictionary lookup.
/// </summary>
public static class AuditGate
{
    public const string Annotation = "run.moat.audit", FailOnAnnotation = "run.moat.audit.fail-on";
    static readonly string[] Severities = ["info", "low", "medium", "high", "critical"];

    public static void Check(Spec spec, string bundle, Action<string> warn)
    {
        if (spec.Annotations is null || !spec.Annotations.TryGetValue(Annotation, out var mode))
            return;
        if (mode is not ("enforce" or "warn"))
            throw new RuntimeException($"annotation {Annotation}={mode}: the value must be enforce or warn");
        var failOn = spec.Annotations.GetValueOrDefault(FailOnAnnotation) ?? "high";
        if (Array.IndexOf(Severities, failOn) < 1)
            throw new RuntimeException($"annotation {FailOnAnnotation}={failOn}: the value must be low, medium, high or critical");
        var moat = FindMoat() ?? throw new RuntimeException(
            $"annotation {Annotation}={mode} needs the moat command (it runs `moat audit`), found neither next to moat-runtime nor on PATH");
        var (status, json, error) = RunAudit(moat, bundle, failOn);
        if (status is not (0 or 1))
            throw new RuntimeException($"annotation {Annotation}: `moat audit --bundle {bundle}` failed (exit status {status}): {error.Trim()}");
        var over = FindingsAtOrAbove(json, failOn);
        if (over.Count == 0)
            return;
        var list = string.Join("; ", over.Select(f => $"{f.Id} ({f.Severity}) {f.Path}: {f.Message}"));
        if (mode == "enforce")
            throw new RuntimeException($"{Annotation}=enforce refused the container: {over.Count} audit finding{(over.Count == 1 ? "" : "s")} at or above {failOn}: {list} (see `moat audit --bundle {bundle}`)");
        foreach (var f in over)
            warn($"{Annotation}: {f.Id} ({f.Severity}) {f.Path}: {f.Message}");
    }

    public sealed record Finding(string Id, string Severity, string Path, string Message);

    /// <summary>The findings of `moat audit --format json` at or above a severity, waived ones aside (a reader, not the serializer: this binary has none).</summary>
    public static List<Finding> FindingsAtOrAbove(string json, string failOn)
    {
        var threshold = Array.IndexOf(Severities, failOn);
        var found = new List<Finding>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1 || !reader.ValueTextEquals("findings"))
                continue;
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
                break;
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                string id = "", severity = "", path = "", message = "";
                var waived = false;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString();
                    reader.Read();
                    if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                    {
                        reader.Skip();
                        continue;
                    }
                    var text = reader.TokenType == JsonTokenType.String ? reader.GetString() ?? "" : "";
                    switch (name)
                    {
                        case "id": id = text; break;
                        case "severity": severity = text; break;
                        case "path": path = text; break;
                        case "message": message = text; break;
                        case "waived": waived = reader.TokenType is JsonTokenType.String or JsonTokenType.True; break;
                    }
                }
                if (!waived && Array.IndexOf(Severities, severity) >= threshold)
                    found.Add(new Finding(id, severity, path, message));
            }
            break;
        }
        return found;
    }

    static string? FindMoat()
    {
        var own = Path.GetDirectoryName(Environment.ProcessPath ?? "") ?? "";
        var beside = Path.Combine(own, "moat");
        if (File.Exists(beside))
            return beside;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "moat")))
                return Path.Combine(dir, "moat");
        return null;
    }

    static unsafe (int Status, string Stdout, string Stderr) RunAudit(string moat, string bundle, string failOn)
    {
        using var stdout = new FileDescriptor(Errors.Check(Libc.memfd_create("moat-audit-out", Libc.MFD_CLOEXEC), "memfd_create"));
        using var stderr = new FileDescriptor(Errors.Check(Libc.memfd_create("moat-audit-err", Libc.MFD_CLOEXEC), "memfd_create"));
        using var devNull = Libc.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC);
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            env.Add($"{entry.Key}={entry.Value}");
        var pid = Libc.Spawn(moat, [moat, "audit", "--bundle", bundle, "--format", "json", "--fail-on", failOn], env, devNull.Fd, stdout.Fd, stderr.Fd);
        using var pidfd = Libc.PidfdOpen(pid);
        var status = Libc.WaitExitCode(pidfd);
        return (status, ReadAll(stdout), ReadAll(stderr));
    }

    static unsafe string ReadAll(FileDescriptor fd)
    {
        var bytes = new List<byte>();
        var buffer = new byte[65536];
        long offset = 0;
        while (true)
        {
            nint n;
            fixed (byte* b = buffer)
                n = Libc.pread(fd.Fd, b, buffer.Length, offset);
            if (n <= 0)
                break;
            bytes.AddRange(buffer.AsSpan(0, (int)n));
            offset += n;
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
