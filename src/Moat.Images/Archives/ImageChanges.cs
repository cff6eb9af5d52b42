using Moat.Oci;
using System.Text.Json;
using Moat.Images.Model;

namespace Moat.Images.Archives;

/// <summary>
/// The Dockerfile instructions `import --change` takes (Docker's subset): CMD, ENTRYPOINT, ENV, WORKDIR,
/// USER, LABEL, EXPOSE, STOPSIGNAL. CMD and ENTRYPOINT take the JSON form (`["a","b"]`) or the shell
/// form (`echo hi` becomes `/bin/sh -c "echo hi"`); ENV and LABEL take `k=v ...` or `k v`.
/// </summary>
public static class ImageChanges
{
    public static void Apply(ContainerConfig config, string change)
    {
        var text = change.Trim();
        var space = text.IndexOfAny([' ', '\t']);
        var instruction = (space < 0 ? text : text[..space]).ToUpperInvariant();
        var argument = space < 0 ? "" : text[(space + 1)..].Trim();
        if (argument.Length == 0)
            throw new ArchiveException($"change \"{change}\": {instruction} needs an argument");
        switch (instruction)
        {
            case "CMD": config.Cmd = CommandOf(argument, change); break;
            case "ENTRYPOINT": config.Entrypoint = CommandOf(argument, change); break;
            case "WORKDIR": config.WorkingDir = argument; break;
            case "USER": config.User = argument; break;
            case "STOPSIGNAL": config.StopSignal = argument; break;
            case "ENV":
                config.Env ??= [];
                foreach (var (key, value) in Pairs(argument, change))
                {
                    config.Env.RemoveAll(e => e.StartsWith(key + "=", StringComparison.Ordinal));
                    config.Env.Add($"{key}={value}");
                }
                break;
            case "LABEL":
                config.Labels ??= [];
                foreach (var (key, value) in Pairs(argument, change))
                    config.Labels[key] = value;
                break;
            case "EXPOSE":
                config.ExposedPorts ??= [];
                foreach (var port in argument.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                    config.ExposedPorts[PortOf(port, change)] = new EmptyObject();
                break;
            default:
                throw new ArchiveException($"change \"{change}\": {instruction} is not one import takes (CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL)");
        }
    }

    static List<string> CommandOf(string argument, string change)
    {
        if (!argument.StartsWith('['))
            return ["/bin/sh", "-c", argument];
        try
        {
            var list = new List<string>();
            using var document = JsonDocument.Parse(argument);
            foreach (var item in document.RootElement.EnumerateArray())
                list.Add(item.GetString() ?? throw new ArchiveException($"change \"{change}\": the JSON list holds a null"));
            return list;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new ArchiveException($"change \"{change}\": the JSON form must be a list of strings ({ErrorText.Reason(e)})", e);
        }
    }

    static List<(string Key, string Value)> Pairs(string argument, string change)
    {
        var words = Words(argument, change);
        if (!words[0].Contains('='))
        {
            // Legacy form: `ENV KEY the rest is the value`.
            var space = argument.IndexOfAny([' ', '\t']);
            if (space < 0)
                throw new ArchiveException($"change \"{change}\": expected KEY=VALUE or KEY VALUE");
            return [(argument[..space], argument[(space + 1)..].Trim())];
        }
        var pairs = new List<(string, string)>();
        foreach (var word in words)
        {
            var eq = word.IndexOf('=');
            if (eq <= 0)
                throw new ArchiveException($"change \"{change}\": \"{word}\" is not KEY=VALUE");
            pairs.Add((word[..eq], word[(eq + 1)..]));
        }
        return pairs;
    }

    /// <summary>Space-separated words; double quotes group and are removed, a backslash escapes the next character.</summary>
    static List<string> Words(string text, string change)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\' && i + 1 < text.Length) { current.Append(text[++i]); inWord = true; }
            else if (c == '"') { quoted = !quoted; inWord = true; }
            else if (!quoted && char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(current.ToString());
                current.Clear();
                inWord = false;
            }
            else { current.Append(c); inWord = true; }
        }
        if (quoted)
            throw new ArchiveException($"change \"{change}\": a double quote is not closed");
        if (inWord) words.Add(current.ToString());
        return words;
    }

    static string PortOf(string port, string change)
    {
        var slash = port.IndexOf('/');
        var number = slash < 0 ? port : port[..slash];
        var protocol = slash < 0 ? "tcp" : port[(slash + 1)..].ToLowerInvariant();
        if (!ushort.TryParse(number, out var value) || value == 0 || protocol is not ("tcp" or "udp" or "sctp"))
            throw new ArchiveException($"change \"{change}\": \"{port}\" is not a port (NUMBER or NUMBER/tcp|udp|sctp)");
        return $"{value}/{protocol}";
    }
}
