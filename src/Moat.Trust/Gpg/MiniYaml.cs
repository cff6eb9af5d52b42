namespace Moat.Trust.Gpg;

/// <summary>
/// The part of YAML that registries.d files use: nested block mappings by indentation, plain or quoted scalar
/// values, comments, and keys with colons in them (`localhost:5000:`). Anything else (lists, flow
/// collections, anchors, multi-line scalars) is refused with the file and line, not guessed at.
/// </summary>
static class MiniYaml
{
    public static List<KeyValuePair<string, object?>> Parse(string text, string file)
    {
        var lines = new List<(int Indent, string Key, string? Value, int Number)>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = StripComment(raw.TrimEnd('\r'));
            if (line.Trim().Length == 0 || line.Trim() == "---") continue;
            if (line.Contains('\t') && line.TrimStart(' ').StartsWith('\t'))
                throw new TrustConfigException($"{file} line {number}: YAML indentation must be spaces");
            var indent = line.Length - line.TrimStart(' ').Length;
            var content = line.Trim();
            if (content.StartsWith('-') || content.StartsWith('[') || content.StartsWith('{') || content.StartsWith('&') || content.StartsWith('*'))
                throw new TrustConfigException($"{file} line {number}: only mappings of keys to values are understood here");
            string key;
            string? value;
            var separator = content.IndexOf(": ", StringComparison.Ordinal);
            if (separator >= 0) { key = content[..separator]; value = content[(separator + 2)..].Trim(); }
            else if (content.EndsWith(':')) { key = content[..^1]; value = null; }
            else throw new TrustConfigException($"{file} line {number}: \"{content}\" is not \"key: value\"");
            if (value is "" or "~" or "null") value = null;
            if (value is ['|' or '>', ..]) throw new TrustConfigException($"{file} line {number}: multi-line values are not supported");
            lines.Add((indent, Unquote(key.Trim()), value is null ? null : Unquote(value), number));
        }
        var position = 0;
        var result = Block(lines, ref position, lines.Count > 0 ? lines[0].Indent : 0, file);
        return result;
    }

    static List<KeyValuePair<string, object?>> Block(List<(int Indent, string Key, string? Value, int Number)> lines, ref int position, int indent, string file)
    {
        var map = new List<KeyValuePair<string, object?>>();
        while (position < lines.Count && lines[position].Indent >= indent)
        {
            var line = lines[position];
            if (line.Indent != indent) throw new TrustConfigException($"{file} line {line.Number}: unexpected indentation");
            position++;
            if (map.Any(p => p.Key == line.Key)) throw new TrustConfigException($"{file} line {line.Number}: the key \"{line.Key}\" appears twice");
            if (line.Value is not null || position >= lines.Count || lines[position].Indent <= indent)
                map.Add(new(line.Key, line.Value));
            else
                map.Add(new(line.Key, Block(lines, ref position, lines[position].Indent, file)));
        }
        return map;
    }

    public static List<KeyValuePair<string, object?>> Map(object? value, string file, string where) => value switch
    {
        List<KeyValuePair<string, object?>> map => map,
        null => [],
        _ => throw new TrustConfigException($"{file}: {where} must be a mapping, not \"{value}\""),
    };

    static string StripComment(string line)
    {
        var quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0') { if (c == quote) quote = '\0'; continue; }
            if (c is '"' or '\'') quote = c;
            else if (c == '#' && (i == 0 || line[i - 1] == ' ')) return line[..i];
        }
        return line;
    }

    static string Unquote(string text) =>
        text.Length >= 2 && ((text[0] == '"' && text[^1] == '"') || (text[0] == '\'' && text[^1] == '\'')) ? text[1..^1] : text;
}
