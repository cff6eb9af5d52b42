namespace Moat.Scan.Inventory;

/// <summary>The distribution, from os-release(5): ID ("debian", "alpine", "rhel"), VERSION_ID, the pretty name.</summary>
public sealed record OsRelease(string Id, string? VersionId, string? PrettyName, string? VersionCodename, IReadOnlyList<string> IdLike)
{
    /// <summary>Parses KEY=value lines (values optionally quoted, with shell escapes).</summary>
    public static OsRelease Parse(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
                continue;
            var equals = line.IndexOf('=');
            if (equals <= 0)
                continue;
            fields[line[..equals]] = Unquote(line[(equals + 1)..]);
        }
        return new OsRelease(
            fields.GetValueOrDefault("ID", "linux").ToLowerInvariant(),
            fields.GetValueOrDefault("VERSION_ID"),
            fields.GetValueOrDefault("PRETTY_NAME"),
            fields.GetValueOrDefault("VERSION_CODENAME"),
            fields.GetValueOrDefault("ID_LIKE", "").Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    static string Unquote(string value)
    {
        if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0])
        {
            value = value[1..^1];
            if (value.Contains('\\'))
            {
                var text = new System.Text.StringBuilder(value.Length);
                for (var i = 0; i < value.Length; i++)
                    text.Append(value[i] == '\\' && i + 1 < value.Length ? value[++i] : value[i]);
                value = text.ToString();
            }
        }
        return value;
    }

    /// <summary>"debian-12", as purls and SBOMs name a distribution release.</summary>
    public string Distro => VersionId is null ? Id : $"{Id}-{VersionId}";

    public bool IsLike(string id) => Id == id || IdLike.Contains(id);
}
