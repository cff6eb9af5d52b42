using System.Text;
using System.Text.Json;

namespace Moat.Audit.Bundle;

/// <summary>
/// The line of every value in a JSON document by its path in the audit's form (<c>process.capabilities.bounding[3]</c>,
/// <c>linux.sysctl["net.ipv4.ip_forward"]</c>), built in one pass of Utf8JsonReader only when SARIF asks for lines.
/// A path the document does not have (a missing field) gets the line of its nearest existing parent.
/// </summary>
public sealed class JsonLineIndex
{
    readonly Dictionary<string, int> lines = new(StringComparer.Ordinal);

    public static JsonLineIndex Build(ReadOnlySpan<byte> json)
    {
        var index = new JsonLineIndex();
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        // The path of each open container and, for arrays, the next element's index.
        var stack = new List<(string Path, int NextIndex, bool IsArray)>();
        string? pendingName = null;
        var line = 1;
        var counted = 0L;
        try
        {
            while (reader.Read())
            {
                var start = reader.TokenStartIndex;
                line += json[(int)counted..(int)start].Count((byte)'\n');
                counted = start;
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString() ?? "";
                    pendingName = Member(stack.Count == 0 ? "" : stack[^1].Path, name);
                    index.lines.TryAdd(pendingName, line);
                    continue;
                }
                if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    if (stack.Count > 0) stack.RemoveAt(stack.Count - 1);
                    continue;
                }
                string path;
                if (stack.Count > 0 && stack[^1].IsArray)
                {
                    var parent = stack[^1];
                    path = $"{parent.Path}[{parent.NextIndex}]";
                    stack[^1] = parent with { NextIndex = parent.NextIndex + 1 };
                    index.lines.TryAdd(path, line);
                }
                else
                {
                    path = pendingName ?? "";
                }
                pendingName = null;
                if (reader.TokenType == JsonTokenType.StartObject) stack.Add((path, 0, false));
                else if (reader.TokenType == JsonTokenType.StartArray) stack.Add((path, 0, true));
            }
        }
        catch (JsonException)
        {
            // A document the loader accepted parses here too; if not, the lines found so far still help.
        }
        return index;
    }

    static string Member(string parent, string name)
    {
        var simple = name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        if (simple) return parent.Length == 0 ? name : parent + "." + name;
        return $"{parent}[\"{name}\"]";
    }

    /// <summary>The 1-based line of the path, of its nearest existing parent, or 1.</summary>
    public int LineOf(string path)
    {
        while (path.Length > 0)
        {
            if (lines.TryGetValue(path, out var line)) return line;
            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            if (cut <= 0) break;
            path = path[..cut];
        }
        return 1;
    }
}
