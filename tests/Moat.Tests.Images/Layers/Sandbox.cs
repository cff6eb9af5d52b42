using Moat.Interop;

namespace Moat.Tests.Images.Layers;

/// <summary>
/// A temporary directory holding the unpack target and a "host" beside it: a test can check that
/// nothing was written outside the target. Removed on dispose, mounts included.
/// </summary>
internal sealed class Sandbox : IDisposable
{
    public Sandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "moat-layers-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Root);
        Target = Path.Combine(Root, "target");
        Outside = Path.Combine(Root, "outside");
        System.IO.Directory.CreateDirectory(Outside);
        System.IO.File.WriteAllText(Path.Combine(Outside, "passwd"), "host\n");
    }

    public string Root { get; }
    public string Target { get; }
    public string Outside { get; }
    public List<string> Mounts { get; } = [];

    public string In(string relative) => Path.Combine(Target, relative);

    /// <summary>Everything under the sandbox outside the target: it must stay exactly the "host" file.</summary>
    public void AssertOutsideUntouched()
    {
        // Listed without descending into the target (it may hold symlinks to anywhere).
        var top = System.IO.Directory.EnumerateFileSystemEntries(Root).Select(p => Path.GetFileName(p)!).Where(n => n != "target").Order().ToArray();
        Assert.Equal(["outside"], top);
        Assert.Equal(["passwd"], System.IO.Directory.EnumerateFileSystemEntries(Outside).Select(p => Path.GetFileName(p)!).ToArray());
        Assert.Equal("host\n", System.IO.File.ReadAllText(Path.Combine(Outside, "passwd")));
    }

    public void Dispose()
    {
        foreach (var mount in Enumerable.Reverse(Mounts))
            Libc.umount2(mount, Libc.MNT_DETACH);
        Moat.Images.Layers.TreeRemoval.Remove(Root);
    }
}

/// <summary>One line per file in a tree (path, type, mode, owner, size or link target), for comparing trees.</summary>
internal static class TreeListing
{
    public static List<string> Of(string root)
    {
        var lines = new List<string>();
        Walk(root, "", lines);
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    static void Walk(string root, string relative, List<string> lines)
    {
        var dir = relative.Length == 0 ? root : Path.Combine(root, relative);
        foreach (var full in System.IO.Directory.EnumerateFileSystemEntries(dir))
        {
            var rel = relative.Length == 0 ? Path.GetFileName(full) : relative + "/" + Path.GetFileName(full);
            var (mode, uid, gid) = Libc.LStat(full);
            var type = mode & Libc.S_IFMT;
            var detail = type switch
            {
                Libc.S_IFLNK => "-> " + new FileInfo(full).LinkTarget,
                Libc.S_IFREG => new FileInfo(full).Length.ToString(),
                _ => "",
            };
            lines.Add($"{rel} {Convert.ToString(mode, 8)} {uid}:{gid} {detail}".TrimEnd());
            if (type == Libc.S_IFDIR)
                Walk(root, rel, lines);
        }
    }
}
