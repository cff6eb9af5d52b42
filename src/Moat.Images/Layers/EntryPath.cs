namespace Moat.Images.Layers;

/// <summary>Member names as paths relative to the layer root: no '..', no leading '/', no empty or '.' parts.</summary>
internal static class EntryPath
{
    /// <summary>
    /// The member name as a clean relative path ("" for the root itself). A leading '/' is dropped, as
    /// every tar implementation does; any '..' part is refused outright, whether or not it would climb
    /// out, because no layer writer produces one and it is the classic way out of the target directory.
    /// </summary>
    public static string Normalize(string name)
    {
        if (name.Contains('\0'))
            throw new LayerUnpackException($"the layer's member '{name.Replace("\0", "\\0")}' has a NUL byte in its name; refused");
        if (IsClean(name))
            return name.EndsWith('/') ? name.TrimEnd('/') : name;
        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var kept = new List<string>(parts.Length);
        foreach (var part in parts)
        {
            if (part == ".")
                continue;
            if (part == "..")
                throw new LayerUnpackException($"the layer's member '{name}' has a '..' in its path, which could climb out of the layer; refused");
            kept.Add(part);
        }
        return string.Join('/', kept);
    }

    // The common case, "usr/bin/x" or "usr/bin/", needs no copy.
    static bool IsClean(string name)
    {
        if (name.Length == 0 || name[0] is '/' or '.')
            return false;
        for (var i = 1; i < name.Length; i++)
            if (name[i] == '/' && i + 1 < name.Length && name[i + 1] is '/' or '.')
                return false;
        return true;
    }

    public static (string Parent, string Leaf) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? ("", path) : (path[..slash], path[(slash + 1)..]);
    }

    public static string Join(string parent, string leaf) => parent.Length == 0 ? leaf : parent + "/" + leaf;
}
