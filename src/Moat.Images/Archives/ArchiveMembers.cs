using System.Formats.Tar;

namespace Moat.Images.Archives;

/// <summary>
/// The names in an archive, and its symlinks resolved by string arithmetic within the archive's own name
/// space (`docker save` writes a repeated layer as `id2/layer.tar -> ../id1/layer.tar`). A link that
/// climbs out of the archive or loops is refused; nothing here touches the host's file system.
/// </summary>
internal sealed class ArchiveMembers
{
    const int MaxLinks = 16;
    readonly HashSet<string> files = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> links = new(StringComparer.Ordinal);

    public void Add(string name, TarEntry entry)
    {
        if (entry.EntryType == TarEntryType.SymbolicLink)
            links[name] = entry.LinkName;
        else if (ArchiveEntries.IsRegularFile(entry))
            files.Add(name);
    }

    public bool Contains(string name) => files.Contains(name) || links.ContainsKey(name);

    /// <summary>The regular member a name from an index document stands for.</summary>
    public string Resolve(string reference, string source)
    {
        var name = ArchiveEntries.NormalizeName(reference)
            ?? throw new ArchiveException($"{source} names \"{reference}\", which is not a plain path inside the archive");
        for (var hops = 0; hops <= MaxLinks; hops++)
        {
            if (files.Contains(name))
                return name;
            if (!links.TryGetValue(name, out var target))
                throw new ArchiveException($"the archive lacks {reference}, which {source} names");
            name = Combine(name, target)
                ?? throw new ArchiveException($"{name} in the archive is a symlink to \"{target}\", outside the archive");
        }
        throw new ArchiveException($"{reference} in the archive is a chain of more than {MaxLinks} symlinks");
    }

    static string? Combine(string link, string target)
    {
        if (target.StartsWith('/'))
            return null;
        var parts = link.Split('/').SkipLast(1).ToList();
        foreach (var part in target.Split('/'))
        {
            if (part is "" or ".")
                continue;
            if (part == "..")
            {
                if (parts.Count == 0)
                    return null;
                parts.RemoveAt(parts.Count - 1);
            }
            else
            {
                parts.Add(part);
            }
        }
        return parts.Count == 0 ? null : string.Join('/', parts);
    }
}
