namespace Moat.Runtime.Rootfs;

/// <summary>The host's answers to <see cref="IRootfsHostFacts"/>, read when asked.</summary>
public sealed class HostRootfsFacts : IRootfsHostFacts
{
    public static readonly HostRootfsFacts Instance = new();

    public bool HasKcore => File.Exists("/proc/kcore");

    public string MountPointOf(string path) => MountPointIn(File.ReadLines("/proc/self/mountinfo"), path);

    /// <summary>The longest mount point in mountinfo lines that is <paramref name="path"/> or above it; "/" when none is.</summary>
    public static string MountPointIn(IEnumerable<string> mountinfo, string path)
    {
        var best = "/";
        foreach (var line in mountinfo)
        {
            var fields = line.Split(' ');
            if (fields.Length < 5)
                continue;
            var mountPoint = fields[4];
            var under = path == mountPoint || path.StartsWith(mountPoint.TrimEnd('/') + "/", StringComparison.Ordinal);
            if (under && mountPoint.Length > best.Length)
                best = mountPoint;
        }
        return best;
    }
}
