using System.Buffers.Binary;

namespace Moat.Scan.Inventory;

/// <summary>
/// The values of a Berkeley DB hash database, as rpm's old backend (/var/lib/rpm/Packages, RHEL 7/8,
/// CentOS, older Fedora) stores header blobs in one. Read straight from the file's pages without libdb:
/// page 0 is the hash metadata (magic 0x061561, page size, last page number); hash pages (type 13, or 2
/// unsorted) hold an index of item offsets, keys and values alternating; a value is either inline
/// (H_KEYDATA, type 1) or on a chain of overflow pages (H_OFFPAGE, type 3 → pages of type 7).
/// </summary>
public static class BerkeleyHashDatabase
{
    const uint HashMagic = 0x061561;
    const byte HashMetadataPage = 8, HashPage = 13, HashUnsortedPage = 2, OverflowPage = 7;
    const byte KeyData = 1, OffPage = 3;
    const int PageHeaderSize = 26;

    /// <summary>Each value with its key, in page order.</summary>
    public static List<(byte[] Key, byte[] Value)> ReadAll(byte[] file, string what)
    {
        if (file.Length < 512)
            throw new ScanException($"{what} is not a Berkeley DB file: {file.Length} bytes");
        var swapped = false;
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(12));
        if (magic != HashMagic)
        {
            if (BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(12)) != HashMagic)
                throw new ScanException($"{what} is not a Berkeley DB hash database (magic {magic:x8}; a btree or another format is not read)");
            swapped = true;
        }
        uint U32(ReadOnlySpan<byte> b) => swapped ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
        ushort U16(ReadOnlySpan<byte> b) => swapped ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);

        var pageSize = U32(file.AsSpan(20));
        if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) != 0)
            throw new ScanException($"{what}: Berkeley DB page size {pageSize} is not a power of two from 512 to 65536");
        if (file[24] != 0)
            throw new ScanException($"{what} is an encrypted Berkeley DB database");
        if (file[25] != HashMetadataPage)
            throw new ScanException($"{what}: its first page is of type {file[25]}, not hash metadata");
        var lastPage = U32(file.AsSpan(32));
        var pages = (uint)(file.Length / pageSize);
        if (lastPage >= pages)
            throw new ScanException($"{what} is truncated: its metadata names page {lastPage} but the file holds {pages} pages");

        var result = new List<(byte[], byte[])>();
        for (uint number = 1; number <= lastPage; number++)
        {
            var page = file.AsSpan((int)(number * pageSize), (int)pageSize);
            if (page[25] is not (HashPage or HashUnsortedPage))
                continue;
            var entries = U16(page[20..]);
            if (entries % 2 != 0 || PageHeaderSize + entries * 2 > pageSize)
                throw new ScanException($"{what}: hash page {number} has {entries} index entries, not key and value pairs that fit");
            var offsets = new int[entries];
            for (var i = 0; i < entries; i++)
            {
                offsets[i] = U16(page[(PageHeaderSize + i * 2)..]);
                if (offsets[i] < PageHeaderSize + entries * 2 || offsets[i] >= pageSize)
                    throw new ScanException($"{what}: hash page {number} has an item at offset {offsets[i]}, outside the page");
            }
            for (var i = 0; i < entries; i += 2)
            {
                var key = Item(page, offsets, i, pageSize, number);
                var value = Item(page, offsets, i + 1, pageSize, number);
                result.Add((key, value));
            }
        }
        return result;

        byte[] Item(ReadOnlySpan<byte> page, int[] offsets, int index, uint size, uint number)
        {
            var offset = offsets[index];
            switch (page[offset])
            {
                case KeyData:
                    // Items fill the page from its end backwards: this one ends where the one before it starts.
                    var end = index == 0 ? (int)size : offsets[index - 1];
                    if (end <= offset)
                        throw new ScanException($"{what}: hash page {number} has overlapping items");
                    return page[(offset + 1)..end].ToArray();
                case OffPage:
                    if (offset + 12 > size)
                        throw new ScanException($"{what}: hash page {number} has an overflow reference cut off by the page end");
                    return Overflow(U32(page[(offset + 4)..]), U32(page[(offset + 8)..]), number);
                default:
                    throw new ScanException($"{what}: hash page {number} has an item of type {page[offset]} (duplicates are not read)");
            }
        }

        byte[] Overflow(uint first, uint length, uint from)
        {
            var data = new byte[length];
            var filled = 0;
            var seen = new HashSet<uint>();
            for (var number = first; number != 0;)
            {
                if (number >= pages || !seen.Add(number))
                    throw new ScanException($"{what}: the overflow chain from hash page {from} leads to page {number}, outside the file or round in a loop");
                var page = file.AsSpan((int)(number * pageSize), (int)pageSize);
                if (page[25] != OverflowPage)
                    throw new ScanException($"{what}: page {number} of an overflow chain is of type {page[25]}, not overflow");
                var next = U32(page[16..]);
                // An overflow page's "high free offset" is the number of bytes it holds.
                var held = U16(page[22..]);
                if (held > pageSize - PageHeaderSize || filled + held > length)
                    throw new ScanException($"{what}: overflow page {number} holds more than the item's {length} bytes");
                page.Slice(PageHeaderSize, held).CopyTo(data.AsSpan(filled));
                filled += held;
                number = next;
            }
            if (filled != length)
                throw new ScanException($"{what}: an overflow item of {length} bytes ends after {filled}");
            return data;
        }
    }

    /// <summary>rpm's Packages: the header blobs by their 4-byte instance keys (key 0 holds rpm's counter, not a package).</summary>
    public static List<InstalledPackage> ReadRpmPackages(byte[] file, string database)
    {
        var packages = new List<InstalledPackage>();
        foreach (var (key, value) in ReadAll(file, database))
        {
            if (key.Length == 4 && BinaryPrimitives.ReadUInt32LittleEndian(key) == 0 && BinaryPrimitives.ReadUInt32BigEndian(key) == 0)
                continue;
            var what = $"{database} package {Convert.ToHexString(key)}";
            if (RpmHeader.Parse(value, what).ToPackage(database, what) is { } package)
                packages.Add(package);
        }
        return packages;
    }
}
