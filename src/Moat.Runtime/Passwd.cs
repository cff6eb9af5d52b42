namespace Moat.Runtime;

/// <summary>passwd(5) lookups by uid: a container's (HOME) and the host's (the owner in state).</summary>
public static class Passwd
{
    /// <summary>
    /// The name and home directory of the first line whose uid (third field) is <paramref name="uid"/>,
    /// or null. Blank lines, comments and NIS "+"/"-" entries are skipped, as glibc's files backend does.
    /// </summary>
    public static (string Name, string Home)? Find(string passwd, uint uid)
    {
        foreach (var range in passwd.AsSpan().Split('\n'))
        {
            var line = passwd.AsSpan(range).TrimEnd('\r');
            if (line.IsEmpty || line[0] is '#' or '+' or '-')
                continue;
            // name:password:uid:gid:gecos:home:shell
            Span<Range> fields = stackalloc Range[8];
            if (line.Split(fields, ':') < 6)
                continue;
            if (!uint.TryParse(line[fields[2]], System.Globalization.NumberStyles.None, null, out var entryUid) || entryUid != uid)
                continue;
            return (line[fields[0]].ToString(), line[fields[5]].ToString());
        }
        return null;
    }
}
