using System.Text.Json;
using System.Text.RegularExpressions;

namespace Moat.Cli.Output;

/// <summary>docker's `--format '{{.A.B}}'` and `{{json .A}}` over a JSON document: each {{...}} replaced by the value at that path.</summary>
public static partial class TemplatePath
{
    [GeneratedRegex(@"\{\{\s*(json\s+)?\.([A-Za-z0-9_.]*)\s*\}\}")]
    private static partial Regex Field();

    public static string Apply(string template, JsonElement document) =>
        Field().Replace(template, match =>
        {
            var value = document;
            foreach (var part in match.Groups[2].Value.Split('.', StringSplitOptions.RemoveEmptyEntries))
            {
                if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(part, out value))
                    return "<no value>";
            }
            if (match.Groups[1].Success)
                return value.GetRawText();
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString() ?? "",
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Null => "<nil>",
                _ => value.GetRawText(),
            };
        });
}
