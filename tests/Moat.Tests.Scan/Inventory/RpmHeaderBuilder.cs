using System.Buffers.Binary;
using System.Text;

namespace Moat.Tests.Scan.Inventory;

/// <summary>
/// rpm header blobs in the binary format rpm stores in its database: index entry count and data size
/// (big-endian), an immutable-region entry first (tag 63, its trailer at the end of the data), then the
/// tag entries, then the data store with strings NUL-terminated and numbers 4-byte aligned.
/// </summary>
public static class RpmHeaderBuilder
{
    const int TypeInt32 = 4, TypeString = 6, TypeBin = 7, TypeStringArray = 8;

    public static byte[] Build(string name, string version, string release, int? epoch, string arch, string? license, string? sourceRpm)
    {
        var entries = new List<(int Tag, int Type, byte[] Data, int Count)>();
        void Text(int tag, string? value) { if (value is not null) entries.Add((tag, TypeString, Encoding.UTF8.GetBytes(value + "\0"), 1)); }
        Text(1000, name);
        Text(1001, version);
        Text(1002, release);
        if (epoch is { } e)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(bytes, e);
            entries.Add((1003, TypeInt32, bytes, 1));
        }
        Text(1014, license);
        Text(1022, arch);
        Text(1044, sourceRpm);
        entries.Add((1027, TypeStringArray, Encoding.UTF8.GetBytes("/usr/bin/" + name + "\0/usr/share/doc/" + name + "\0"), 2)); // OLDFILENAMES: a tag not read

        var store = new MemoryStream();
        var index = new List<(int, int, int, int)>();
        foreach (var (tag, type, data, count) in entries)
        {
            if (type == TypeInt32)
                while (store.Length % 4 != 0) store.WriteByte(0);
            index.Add((tag, type, (int)store.Length, count));
            store.Write(data);
        }
        // The region trailer: tag 63, type BIN, offset minus the size of the region's index, count 16.
        var total = index.Count + 1;
        var trailerOffset = (int)store.Length;
        var trailer = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(trailer, 63);
        BinaryPrimitives.WriteInt32BigEndian(trailer.AsSpan(4), TypeBin);
        BinaryPrimitives.WriteInt32BigEndian(trailer.AsSpan(8), -total * 16);
        BinaryPrimitives.WriteInt32BigEndian(trailer.AsSpan(12), 16);
        store.Write(trailer);
        index.Insert(0, (63, TypeBin, trailerOffset, 16));

        var blob = new byte[8 + total * 16 + store.Length];
        BinaryPrimitives.WriteInt32BigEndian(blob, total);
        BinaryPrimitives.WriteInt32BigEndian(blob.AsSpan(4), (int)store.Length);
        for (var i = 0; i < index.Count; i++)
        {
            var (tag, type, offset, count) = index[i];
            var at = blob.AsSpan(8 + i * 16);
            BinaryPrimitives.WriteInt32BigEndian(at, tag);
            BinaryPrimitives.WriteInt32BigEndian(at[4..], type);
            BinaryPrimitives.WriteInt32BigEndian(at[8..], offset);
            BinaryPrimitives.WriteInt32BigEndian(at[12..], count);
        }
        store.ToArray().CopyTo(blob, 8 + total * 16);
        return blob;
    }
}
