namespace Moat.Oci;

/// <summary>
/// The text of /proc/PID/uid_map and gid_map: one "inside outside count" line per mapping. Written for
/// the kernel, newuidmap and idmapped mounts, read back from /proc and from a container layer's maps.
/// </summary>
public static class IdMapText
{
    public static string Format(IEnumerable<LinuxIdMapping>? mappings) =>
        string.Concat((mappings ?? []).Select(m => $"{m.ContainerId} {m.HostId} {m.Size}\n"));

    /// <summary>The well-formed lines of <paramref name="text"/> (others are skipped).</summary>
    public static IEnumerable<(uint Inside, uint Outside, uint Count)> Parse(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 3 && uint.TryParse(f[0], System.Globalization.CultureInfo.InvariantCulture, out var inside)
                && uint.TryParse(f[1], System.Globalization.CultureInfo.InvariantCulture, out var outside)
                && uint.TryParse(f[2], System.Globalization.CultureInfo.InvariantCulture, out var count))
                yield return (inside, outside, count);
        }
    }
}
