namespace Moat.Images.Layers;

/// <summary>One tar member after pax and GNU long-name headers are folded in. Reused from entry to entry.</summary>
internal sealed class TarEntry
{
    public const byte Regular = (byte)'0', HardLink = (byte)'1', Symlink = (byte)'2', CharDevice = (byte)'3',
        BlockDevice = (byte)'4', Directory = (byte)'5', Fifo = (byte)'6';

    public string Name = "";
    public string LinkName = "";
    /// <summary>Normalised: '\0' and '7' (contiguous) read as <see cref="Regular"/>, a v7 name ending in '/' as <see cref="Directory"/>.</summary>
    public byte Type;
    public long Size;
    public uint Mode;
    public long Uid, Gid;
    public long ModifySeconds;
    public uint ModifyNanoseconds;
    public bool HasAccessTime;
    public long AccessSeconds;
    public uint AccessNanoseconds;
    public uint DeviceMajor, DeviceMinor;
    public readonly List<(string Name, byte[] Value)> Xattrs = [];

    public void Reset()
    {
        Name = LinkName = "";
        Type = 0;
        Size = 0;
        Mode = 0;
        Uid = Gid = 0;
        ModifySeconds = AccessSeconds = 0;
        ModifyNanoseconds = AccessNanoseconds = 0;
        HasAccessTime = false;
        DeviceMajor = DeviceMinor = 0;
        Xattrs.Clear();
    }
}
