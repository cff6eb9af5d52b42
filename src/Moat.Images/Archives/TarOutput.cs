using System.Formats.Tar;

namespace Moat.Images.Archives;

/// <summary>Archive members as the writers make them: root-owned, 0644 files and 0755 directories, the epoch as time (reproducible archives).</summary>
internal static class TarOutput
{
    const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    const UnixFileMode DirectoryMode = FileMode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public static void WriteFile(TarWriter tar, string name, byte[] content)
    {
        using var stream = new MemoryStream(content, writable: false);
        WriteFile(tar, name, stream);
    }

    public static void WriteFile(TarWriter tar, string name, Stream content)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            Mode = FileMode,
            ModificationTime = DateTimeOffset.UnixEpoch,
            DataStream = content,
        };
        tar.WriteEntry(entry);
    }

    public static void WriteDirectory(TarWriter tar, string name) =>
        tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, name) { Mode = DirectoryMode, ModificationTime = DateTimeOffset.UnixEpoch });
}
