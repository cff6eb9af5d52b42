using System.Globalization;
using System.Text;

namespace Moat.Images.Registries;

/// <summary>A TOML table: key/values, sub-tables (`[a.b]`) and arrays of tables (`[[a.b]]`).</summary>
internal sealed class TomlTable
{
    public int Line { get; init; }
    public Dictionary<string, TomlValue> Values { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, TomlTable> Tables { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<TomlTable>> TableArrays { get; } = new(StringComparer.Ordinal);
}

/// <summary>A value with the line it was on, so a wrong type is reported where it is.</summary>
internal sealed record TomlValue(object Value, int Line)
{
    public string Kind => Value switch { string => "a string", bool => "a boolean", long => "an integer", List<string> => "an array of strings", _ => "a value" };
}

internal sealed class TomlException(string message) : Exception(message);

/// <summary>
/// The part of TOML that registries.conf uses: comments, `key = value` with basic and literal strings,
/// booleans, integers and arrays of strings (over several lines too), `[table]` and `[[array.of.tables]]`.
/// Anything else is an error with its line number, never a silent guess.
/// </summary>
internal static class TomlReader
{
    public static TomlTable Parse(string text, string source)
    {
        var root = new TomlTable { Line = 0 };
        var current = root;
        var reader = new Cursor(text, source);
        while (reader.SkipBlankLines())
        {
            var line = reader.Line;
            if (reader.Peek == '[')
            {
                var isArray = reader.PeekAt(1) == '[';
                reader.Advance(isArray ? 2 : 1);
                var path = ReadKeyPath(ref reader);
                reader.SkipSpaces();
                if (!reader.Consume(']') || isArray && !reader.Consume(']'))
                    throw reader.Error(isArray ? "expected ']]' to close the table header" : "expected ']' to close the table header");
                reader.EndOfLine();
                current = isArray ? AppendTableArray(root, path, line, ref reader) : OpenTable(root, path, line);
                continue;
            }
            var keyPath = ReadKeyPath(ref reader);
            if (keyPath.Count != 1) throw reader.Error($"dotted keys ('{string.Join('.', keyPath)}') are not supported here; use a [table]");
            var key = keyPath[0];
            reader.SkipSpaces();
            if (!reader.Consume('=')) throw reader.Error($"expected '=' after the key '{key}'");
            reader.SkipSpaces();
            var value = ReadValue(ref reader);
            reader.EndOfLine();
            if (!current.Values.TryAdd(key, new TomlValue(value, line))) throw new TomlException($"{source} line {line}: the key '{key}' is defined twice in the same table");
        }
        return root;
    }

    static TomlTable OpenTable(TomlTable root, List<string> path, int line)
    {
        var table = root;
        foreach (var name in path)
        {
            if (table.TableArrays.TryGetValue(name, out var array)) { table = array[^1]; continue; }
            if (!table.Tables.TryGetValue(name, out var next)) table.Tables[name] = next = new TomlTable { Line = line };
            table = next;
        }
        return table;
    }

    static TomlTable AppendTableArray(TomlTable root, List<string> path, int line, ref Cursor reader)
    {
        var table = root;
        for (var i = 0; i < path.Count - 1; i++)
        {
            var name = path[i];
            if (table.TableArrays.TryGetValue(name, out var array)) table = array[^1];
            else if (table.Tables.TryGetValue(name, out var next)) table = next;
            else throw new TomlException($"{reader.Source} line {line}: [[{string.Join('.', path)}]] comes before any [[{string.Join('.', path.Take(i + 1))}]] it belongs to");
        }
        var last = path[^1];
        if (table.Tables.ContainsKey(last)) throw new TomlException($"{reader.Source} line {line}: '{last}' is already a table, not an array of tables");
        if (!table.TableArrays.TryGetValue(last, out var list)) table.TableArrays[last] = list = [];
        var created = new TomlTable { Line = line };
        list.Add(created);
        return created;
    }

    static List<string> ReadKeyPath(ref Cursor reader)
    {
        var parts = new List<string>();
        while (true)
        {
            reader.SkipSpaces();
            string part;
            if (reader.Peek is '"' or '\'') part = ReadString(ref reader);
            else
            {
                var start = reader.Position;
                while (reader.Peek is { } c && (char.IsAsciiLetterOrDigit(c) || c is '_' or '-')) reader.Advance(1);
                if (reader.Position == start) throw reader.Error(reader.Peek is null or '\n' ? "expected a key" : $"unexpected '{reader.Peek}' where a key should be");
                part = reader.Slice(start);
            }
            parts.Add(part);
            reader.SkipSpaces();
            if (!reader.Consume('.')) return parts;
        }
    }

    static object ReadValue(ref Cursor reader)
    {
        switch (reader.Peek)
        {
            case '"' or '\'':
                return ReadString(ref reader);
            case '[':
                reader.Advance(1);
                var items = new List<string>();
                while (true)
                {
                    reader.SkipSpacesCommentsAndNewlines();
                    if (reader.Consume(']')) return items;
                    if (reader.Peek is not ('"' or '\'')) throw reader.Error("arrays here hold strings only");
                    items.Add(ReadString(ref reader));
                    reader.SkipSpacesCommentsAndNewlines();
                    if (reader.Consume(',')) continue;
                    if (reader.Consume(']')) return items;
                    throw reader.Error("expected ',' or ']' in the array");
                }
            case null or '\n':
                throw reader.Error("expected a value after '='");
        }
        var start = reader.Position;
        while (reader.Peek is { } c && c is not (' ' or '\t' or '#' or '\n' or '\r' or ',' or ']')) reader.Advance(1);
        var word = reader.Slice(start);
        if (word == "true") return true;
        if (word == "false") return false;
        if (long.TryParse(word.Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)) return number;
        throw reader.Error($"'{word}' is not a value this reader understands (a quoted string, true/false, an integer or an array of strings)");
    }

    static string ReadString(ref Cursor reader)
    {
        var quote = reader.Peek!.Value;
        if (reader.PeekAt(1) == quote && reader.PeekAt(2) == quote) throw reader.Error("multi-line strings are not supported here");
        reader.Advance(1);
        var text = new StringBuilder();
        while (true)
        {
            var c = reader.Peek;
            if (c is null or '\n') throw reader.Error("the string is not closed on its line");
            reader.Advance(1);
            if (c == quote) return text.ToString();
            if (c == '\\' && quote == '"')
            {
                var escape = reader.Peek;
                reader.Advance(1);
                switch (escape)
                {
                    case '"': text.Append('"'); break;
                    case '\\': text.Append('\\'); break;
                    case 'n': text.Append('\n'); break;
                    case 't': text.Append('\t'); break;
                    case 'r': text.Append('\r'); break;
                    case 'b': text.Append('\b'); break;
                    case 'f': text.Append('\f'); break;
                    case 'u' or 'U':
                        var length = escape == 'u' ? 4 : 8;
                        var start = reader.Position;
                        reader.Advance(length);
                        var hex = reader.Slice(start);
                        if (hex.Length != length || !int.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
                            throw reader.Error($"'\\{escape}{hex}' is not a valid unicode escape");
                        text.Append(char.ConvertFromUtf32(code));
                        break;
                    default: throw reader.Error($"'\\{escape}' is not a valid escape in a string");
                }
                continue;
            }
            text.Append(c);
        }
    }

    /// <summary>A position in the text that knows its line number.</summary>
    struct Cursor(string text, string source)
    {
        int position;
        public readonly string Source => source;
        public int Line { get; private set; } = 1;
        public readonly int Position => position;
        public readonly char? Peek => position < text.Length ? text[position] : null;
        public readonly char? PeekAt(int offset) => position + offset < text.Length ? text[position + offset] : null;
        public readonly string Slice(int start) => text[start..Math.Min(position, text.Length)];

        public void Advance(int count)
        {
            for (var i = 0; i < count && position < text.Length; i++)
            {
                if (text[position] == '\n') Line++;
                position++;
            }
        }

        public bool Consume(char c)
        {
            if (Peek != c) return false;
            Advance(1);
            return true;
        }

        public void SkipSpaces()
        {
            while (Peek is ' ' or '\t') Advance(1);
        }

        void SkipComment()
        {
            if (Peek != '#') return;
            while (Peek is { } c && c != '\n') Advance(1);
        }

        public void SkipSpacesCommentsAndNewlines()
        {
            while (true)
            {
                SkipSpaces();
                SkipComment();
                if (Peek is '\n' or '\r') { Advance(1); continue; }
                return;
            }
        }

        /// <summary>Skips blank and comment lines; false at the end of the text.</summary>
        public bool SkipBlankLines()
        {
            SkipSpacesCommentsAndNewlines();
            return Peek is not null;
        }

        /// <summary>Only spaces and a comment may follow a value or header on its line.</summary>
        public void EndOfLine()
        {
            SkipSpaces();
            SkipComment();
            if (Peek is '\r') Advance(1);
            if (Peek is null) return;
            if (Peek != '\n') throw Error($"unexpected '{Peek}' after the value");
            Advance(1);
        }

        public readonly TomlException Error(string what) => new($"{source} line {Line}: {what}");
    }
}
