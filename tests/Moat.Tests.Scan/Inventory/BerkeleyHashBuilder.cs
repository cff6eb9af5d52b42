using System.Buffers.Binary;

namespace Moat.Tests.Scan.Inventory;

/// <summary>
/// A Berkeley DB hash database file laid out as libdb writes one (little-endian): the hash metadata page,
/// hash pages with an index of item offsets (keys and values alternating, items packed from the page end),
/// small values inline (H_KEYDATA) and large ones on chains of overflow pages (H_OFFPAGE).
/// </summary>
public static class BerkeleyHashBuilder
{
    const int PageSize = 4096, Header = 26;

    public static byte[] Build(IReadOnlyList<(uint Key, byte[] Value)> records)
    {
        var pages = new List<byte[]> { new byte[PageSize] };
        var hashPage = new byte[PageSize];
        pages.Add(hashPage);
        var items = new List<byte[]>();
        foreach (var (key, value) in records)
        {
            var keyItem = new byte[5];
            keyItem[0] = 1; // H_KEYDATA
            BinaryPrimitives.WriteUInt32LittleEndian(keyItem.AsSpan(1), key);
            items.Add(keyItem);
            if (value.Length < 512)
            {
                items.Add([1, .. value]);
                continue;
            }
            // H_OFFPAGE: type, 3 unused bytes, first overflow page, total length.
            var first = (uint)pages.Count;
            for (var offset = 0; offset < value.Length; offset += PageSize - Header)
            {
                var page = new byte[PageSize];
                var held = Math.Min(PageSize - Header, value.Length - offset);
                var number = (uint)pages.Count;
                BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(8), number);
                var last = offset + held >= value.Length;
                BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(16), last ? 0 : number + 1);
                BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(22), (ushort)held);
                page[25] = 7; // P_OVERFLOW
                value.AsSpan(offset, held).CopyTo(page.AsSpan(Header));
                pages.Add(page);
            }
            var reference = new byte[12];
            reference[0] = 3;
            BinaryPrimitives.WriteUInt32LittleEndian(reference.AsSpan(4), first);
            BinaryPrimitives.WriteUInt32LittleEndian(reference.AsSpan(8), (uint)value.Length);
            items.Add(reference);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(hashPage.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(hashPage.AsSpan(20), (ushort)items.Count);
        hashPage[25] = 13; // P_HASH
        var end = PageSize;
        for (var i = 0; i < items.Count; i++)
        {
            end -= items[i].Length;
            items[i].CopyTo(hashPage.AsSpan(end));
            BinaryPrimitives.WriteUInt16LittleEndian(hashPage.AsSpan(Header + i * 2), (ushort)end);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(hashPage.AsSpan(22), (ushort)end);

        var meta = pages[0];
        BinaryPrimitives.WriteUInt32LittleEndian(meta.AsSpan(12), 0x061561);
        BinaryPrimitives.WriteUInt32LittleEndian(meta.AsSpan(16), 9);
        BinaryPrimitives.WriteUInt32LittleEndian(meta.AsSpan(20), PageSize);
        meta[25] = 8; // P_HASHMETA
        BinaryPrimitives.WriteUInt32LittleEndian(meta.AsSpan(32), (uint)(pages.Count - 1));
        return [.. pages.SelectMany(p => p)];
    }
}
