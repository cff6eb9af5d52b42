namespace Moat.Scan.Inventory;

/// <summary>
/// apk's installed database (/lib/apk/db/installed): one "K:value" line per field, a blank line between
/// packages. P: name, V: version, A: arch, L: licence, o: origin (the source package).
/// </summary>
public static class ApkInstalled
{
    public static IEnumerable<InstalledPackage> Parse(string text, string database)
    {
        string? name = null, version = null, arch = null, license = null, origin = null;
        foreach (var raw in text.Split('\n').Append(""))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                if (name is not null && version is not null)
                    yield return new InstalledPackage
                    {
                        Kind = PackageKind.Apk,
                        Name = name,
                        Version = version,
                        SourceName = origin is null || origin == name ? null : origin,
                        Architecture = arch,
                        License = license,
                        Database = database,
                    };
                name = version = arch = license = origin = null;
                continue;
            }
            if (line.Length < 2 || line[1] != ':')
                continue;
            var value = line[2..];
            switch (line[0])
            {
                case 'P': name = value; break;
                case 'V': version = value; break;
                case 'A': arch = value; break;
                case 'L': license = value; break;
                case 'o': origin = value; break;
            }
        }
    }
}
