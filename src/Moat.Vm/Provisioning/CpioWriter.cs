using System.Text;

namespace Moat.Vm.Provisioning;

/// <summary>
/// The kernel's initramfs format: a "newc" cpio archive (ASCII hex headers, names and data padded
/// to 4 bytes, a TRAILER!!! entry). Written uncompressed: the kernel unpacks it without inflating
/// anything, which is faster under TCG than saving the few MB.
/// </summary>
public sealed class CpioWriter(Stream output)
{
    uint inode = 1;

    public const uint Directory = 0x4000, Regular = 0x8000, Symlink = 0xA000, CharDevice = 0x2000;

    public void AddDirectory(string name, uint permissions = 0x1ED /* 0755 */) =>
        Entry(name, Directory | permissions, [], 0, 0);

    public void AddFile(string name, byte[] data, uint permissions) => Entry(name, Regular | permissions, data, 0, 0);

    public void AddSymlink(string name, string target) => Entry(name, Symlink | 0x1FF, Encoding.UTF8.GetBytes(target), 0, 0);

    public void AddCharDevice(string name, uint permissions, uint major, uint minor) => Entry(name, CharDevice | permissions, [], major, minor);

    public void Finish()
    {
        Entry("TRAILER!!!", 0, [], 0, 0);
        output.Flush();
    }

    void Entry(string name, uint mode, byte[] data, uint major, uint minor)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var header = new StringBuilder("070701");
        foreach (var field in new uint[]
                 {
                     name == "TRAILER!!!" ? 0 : inode++, mode, 0, 0, (mode & Directory) != 0 ? 2u : 1u, 0,
                     (uint)data.Length, 0, 0, major, minor, (uint)nameBytes.Length + 1, 0,
                 })
            header.Append(field.ToString("x8"));
        var head = Encoding.ASCII.GetBytes(header.ToString());
        output.Write(head);
        output.Write(nameBytes);
        output.WriteByte(0);
        Pad(head.Length + nameBytes.Length + 1);
        output.Write(data);
        Pad(data.Length);
    }

    void Pad(int written)
    {
        for (var i = written; i % 4 != 0; i++)
            output.WriteByte(0);
    }
}
