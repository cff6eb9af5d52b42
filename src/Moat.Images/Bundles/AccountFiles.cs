namespace Moat.Images.Bundles;

/// <summary>passwd(5) and group(5) lines. Comments, blank and malformed lines are skipped, as libc does.</summary>
internal static class AccountFiles
{
    public sealed record PasswdEntry(string Name, uint Uid, uint Gid, string Home);
    public sealed record GroupEntry(string Name, uint Gid, string[] Members);

    public static IEnumerable<PasswdEntry> ParsePasswd(string text)
    {
        foreach (var fields in Lines(text))
        {
            // name:password:uid:gid:gecos:home:shell
            if (fields.Length < 4 || !TryId(fields[2], out var uid) || !TryId(fields[3], out var gid))
                continue;
            yield return new PasswdEntry(fields[0], uid, gid, fields.Length > 5 ? fields[5] : "");
        }
    }

    public static IEnumerable<GroupEntry> ParseGroup(string text)
    {
        foreach (var fields in Lines(text))
        {
            // name:password:gid:member,member
            if (fields.Length < 3 || !TryId(fields[2], out var gid))
                continue;
            var members = fields.Length > 3
                ? fields[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [];
            yield return new GroupEntry(fields[0], gid, members);
        }
    }

    static IEnumerable<string[]> Lines(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
                continue;
            var fields = line.Split(':');
            if (fields[0].Length == 0)
                continue;
            yield return fields;
        }
    }

    static bool TryId(string text, out uint id) =>
        uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id);
}
