using System.Text;

namespace Moat.Tests.Images.Layers;

/// <summary>Builds tar archives byte by byte, so tests can craft members no well-behaved writer would make.</summary>
internal sealed class TarBuilder
{
    readonly MemoryStream output = new();
    public const long DefaultTime = 1_700_000_000;

    public TarBuilder File(string name, string content, uint mode = 0b110_100_100, long uid = 0, long gid = 0, long mtime = DefaultTime, (string, byte[])[]? pax = null) =>
        Add(name, '0', Encoding.UTF8.GetBytes(content), mode, uid, gid, mtime: mtime, pax: pax);

    public TarBuilder FileBytes(string name, byte[] content, uint mode = 0b110_100_100) => Add(name, '0', content, mode);

    public TarBuilder Directory(string name, uint mode = 0b111_101_101, long uid = 0, long gid = 0, long mtime = DefaultTime, (string, byte[])[]? pax = null) =>
        Add(name, '5', null, mode, uid, gid, mtime: mtime, pax: pax);

    public TarBuilder Symlink(string name, string target) => Add(name, '2', null, 0b111_111_111, link: target);

    public TarBuilder HardLink(string name, string target) => Add(name, '1', null, 0b110_100_100, link: target);

    public TarBuilder CharDevice(string name, uint major, uint minor) => Add(name, '3', null, 0b110_110_110, major: major, minor: minor);

    public TarBuilder Fifo(string name) => Add(name, '6', null, 0b110_100_100);

    public TarBuilder Add(string name, char type, byte[]? data, uint mode, long uid = 0, long gid = 0, string link = "",
        long mtime = DefaultTime, uint major = 0, uint minor = 0, (string Key, byte[] Value)[]? pax = null)
    {
        var records = new List<(string, byte[])>(pax ?? []);
        if (Encoding.UTF8.GetByteCount(name) > 100)
            records.Add(("path", Encoding.UTF8.GetBytes(name)));
        if (Encoding.UTF8.GetByteCount(link) > 100)
            records.Add(("linkpath", Encoding.UTF8.GetBytes(link)));
        if (records.Count > 0)
        {
            var body = new MemoryStream();
            foreach (var (key, value) in records)
                body.Write(PaxRecord(key, value));
            WriteMember("PaxHeaders/" + Truncate(name, 80), 'x', body.ToArray(), 0b110_100_100, 0, 0, "", mtime, 0, 0);
        }
        WriteMember(Truncate(name, 100), type, data ?? [], mode, uid, gid, Truncate(link, 100), mtime, major, minor);
        return this;
    }

    static string Truncate(string s, int bytes) => Encoding.UTF8.GetByteCount(s) <= bytes ? s : s[..bytes];

    public static byte[] PaxRecord(string key, byte[] value)
    {
        var tail = Encoding.UTF8.GetByteCount(key) + value.Length + 3; // ' ', '=', '\n'
        var length = tail + 1;
        while (length.ToString().Length + tail != length)
            length++;
        var record = new MemoryStream();
        record.Write(Encoding.ASCII.GetBytes($"{length} {key}="));
        record.Write(value);
        record.WriteByte((byte)'\n');
        return record.ToArray();
    }

    void WriteMember(string name, char type, byte[] data, uint mode, long uid, long gid, string link, long mtime, uint major, uint minor)
    {
        var header = new byte[512];
        Encoding.UTF8.GetBytes(name).CopyTo(header, 0);
        Octal(header, 100, 8, mode);
        Octal(header, 108, 8, uid);
        Octal(header, 116, 8, gid);
        Octal(header, 124, 12, data.Length);
        Octal(header, 136, 12, mtime);
        header[156] = (byte)type;
        Encoding.UTF8.GetBytes(link).CopyTo(header, 157);
        "ustar\0"u8.CopyTo(header.AsSpan(257));
        "00"u8.CopyTo(header.AsSpan(263));
        Octal(header, 329, 8, major);
        Octal(header, 337, 8, minor);
        for (var i = 148; i < 156; i++)
            header[i] = (byte)' ';
        var sum = header.Sum(b => (long)b);
        Octal(header, 148, 7, sum);
        output.Write(header);
        output.Write(data);
        output.Write(new byte[(512 - data.Length % 512) % 512]);
    }

    static void Octal(byte[] header, int offset, int width, long value)
    {
        var text = Convert.ToString(value, 8).PadLeft(width - 1, '0');
        Encoding.ASCII.GetBytes(text).CopyTo(header, offset);
        header[offset + width - 1] = 0;
    }

    /// <summary>The archive with the two end-of-archive blocks and padding to a 10 KiB record, as tar(1) writes it.</summary>
    public byte[] Build()
    {
        var copy = new MemoryStream();
        output.Position = 0;
        output.CopyTo(copy);
        copy.Write(new byte[1024]);
        copy.Write(new byte[(10240 - copy.Length % 10240) % 10240]);
        return copy.ToArray();
    }
}
