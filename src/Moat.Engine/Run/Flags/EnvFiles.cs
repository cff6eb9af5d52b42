using System.Text;

namespace Moat.Engine.Run.Flags;

/// <summary>
/// `-e`/`--env`, `--env-file`, `-l`/`--label` and `--label-file` as docker reads them. A file has one
/// entry a line; blank lines and lines starting with # are skipped; KEY=VALUE is taken verbatim (no
/// quotes are removed, the value may hold '=' and spaces); a bare KEY takes its value from our own
/// environment (and is left out when we have none), or for labels is KEY with an empty value.
/// </summary>
public static class EnvFiles
{
    /// <summary>One `-e` value: KEY=VALUE as given; bare KEY from <paramref name="lookup"/>, null when unset there.</summary>
    public static string? Entry(string text, Func<string, string?> lookup, string flag = "--env")
    {
        var eq = text.IndexOf('=');
        var key = eq < 0 ? text : text[..eq];
        if (key.Length == 0)
            throw new RunFlagException($"{flag} \"{text}\" has no variable name before the '='");
        if (key.Any(char.IsWhiteSpace))
            throw new RunFlagException($"{flag} \"{text}\": the variable name \"{key}\" contains whitespace");
        if (eq >= 0)
            return text;
        return lookup(key) is { } value ? key + "=" + value : null;
    }

    /// <summary>The entries of an --env-file, in order.</summary>
    public static List<string> ReadEnvFile(string path, Func<string, string?> lookup) =>
        Lines(path, "--env-file").Select(l => Entry(l.Line, lookup, $"--env-file {path} line {l.Number}:")).OfType<string>().ToList();

    /// <summary>A `--label` value: KEY=VALUE, or KEY (empty value).</summary>
    public static KeyValuePair<string, string> Label(string text, string flag = "--label")
    {
        var eq = text.IndexOf('=');
        var key = eq < 0 ? text : text[..eq];
        if (key.Length == 0)
            throw new RunFlagException($"{flag} \"{text}\" has no key before the '='");
        if (key.Any(char.IsWhiteSpace))
            throw new RunFlagException($"{flag} \"{text}\": the key \"{key}\" contains whitespace");
        return new(key, eq < 0 ? "" : text[(eq + 1)..]);
    }

    public static List<KeyValuePair<string, string>> ReadLabelFile(string path) =>
        Lines(path, "--label-file").Select(l => Label(l.Line, $"--label-file {path} line {l.Number}:")).ToList();

    static List<(string Line, int Number)> Lines(string path, string flag)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RunFlagException($"{flag} {path} cannot be read: {e.Message}");
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new RunFlagException($"{flag} {path} is not UTF-8 text");
        }
        if (text.StartsWith('\uFEFF'))
            text = text[1..];
        var lines = new List<(string, int)>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            // docker trims leading whitespace only: a value's trailing spaces are the user's.
            var line = raw.TrimEnd('\r').TrimStart();
            if (line.Length == 0 || line[0] == '#')
                continue;
            lines.Add((line, number));
        }
        return lines;
    }
}
