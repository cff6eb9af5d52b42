namespace Moat.Images.Archives;

/// <summary>A scratch file, deleted when closed.</summary>
internal static class TemporaryFile
{
    public static FileStream Create(string? directory)
    {
        var dir = directory ?? Path.GetTempPath();
        var path = Path.Combine(dir, $".moat-archive-{Guid.NewGuid():N}.tmp");
        return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
    }
}
