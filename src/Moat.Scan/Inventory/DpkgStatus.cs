namespace Moat.Scan.Inventory;

/// <summary>
/// dpkg's status database (/var/lib/dpkg/status, and distroless' /var/lib/dpkg/status.d/*): RFC 822
/// style paragraphs. A package counts as installed when its Status ends in "installed" (status.d files
/// have no Status field: each one is an installed package).
/// </summary>
public static class DpkgStatus
{
    public static IEnumerable<InstalledPackage> Parse(string text, string database, bool requireStatus = true)
    {
        foreach (var fields in Paragraphs(text))
        {
            if (!fields.TryGetValue("Package", out var name) || !fields.TryGetValue("Version", out var version))
                continue;
            if (fields.TryGetValue("Status", out var status))
            {
                // "install ok installed"; half-installed, config-files (removed, configuration left) and the like are not installed.
                var words = status.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words.Length < 3 || words[^1] != "installed")
                    continue;
            }
            else if (requireStatus)
                continue;
            string? sourceName = null, sourceVersion = null;
            if (fields.TryGetValue("Source", out var source))
            {
                // "Source: attr" or "Source: glibc (2.36-9+deb12u4)" for binNMUs and the like.
                var open = source.IndexOf('(');
                sourceName = (open < 0 ? source : source[..open]).Trim();
                if (open >= 0 && source.IndexOf(')', open) is var close and > 0)
                    sourceVersion = source[(open + 1)..close].Trim();
            }
            yield return new InstalledPackage
            {
                Kind = PackageKind.Deb,
                Name = name,
                Version = version,
                SourceName = string.IsNullOrEmpty(sourceName) || sourceName == name ? null : sourceName,
                SourceVersion = sourceVersion == version ? null : sourceVersion,
                Architecture = fields.GetValueOrDefault("Architecture"),
                Database = database,
            };
        }
    }

    /// <summary>The paragraphs of a control file: fields by name (continuation lines joined), blank lines between.</summary>
    public static IEnumerable<Dictionary<string, string>> Paragraphs(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? last = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                if (fields.Count > 0)
                    yield return fields;
                fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                last = null;
                continue;
            }
            if ((line[0] == ' ' || line[0] == '\t') && last is not null)
            {
                fields[last] += "\n" + line.Trim();
                continue;
            }
            var colon = line.IndexOf(':');
            if (colon <= 0)
                continue;
            last = line[..colon].Trim();
            fields[last] = line[(colon + 1)..].Trim();
        }
        if (fields.Count > 0)
            yield return fields;
    }

    /// <summary>
    /// The licence names of a machine-readable debian/copyright (DEP-5) file: the License: fields' first
    /// lines, distinct, joined with " AND "; null for a free-form copyright file.
    /// </summary>
    public static string? LicenseOf(string copyright)
    {
        if (!copyright.StartsWith("Format:", StringComparison.OrdinalIgnoreCase))
            return null;
        var names = new List<string>();
        foreach (var paragraph in Paragraphs(copyright))
            if (paragraph.TryGetValue("License", out var license))
            {
                var first = license.Split('\n')[0].Trim();
                if (first.Length > 0 && !names.Contains(first))
                    names.Add(first);
            }
        return names.Count == 0 ? null : string.Join(" AND ", names);
    }
}
