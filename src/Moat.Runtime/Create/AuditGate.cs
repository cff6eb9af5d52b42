using System.Text;
using System.Text.Json;
using Moat.Oci;
using Moat.Runtime.Host;

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
        var moat = HostProgram.Find("moat", [Path.GetDirectoryName(Environment.ProcessPath ?? "") ?? "", .. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')]) ?? throw new RuntimeException(
            $"annotation {Annotation}={mode} needs the moat command (it runs `moat audit`), found neither next to moat-runtime nor on PATH");
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            env.Add($"{entry.Key}={entry.Value}");
        var (status, json, error) = HostProgram.Run(moat, [moat, "audit", "--bundle", bundle, "--format", "json", "--fail-on", failOn], env);
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
}
