using Moat.Oci;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Moat.Images.Layers;

/// <summary>
/// A forward-only tar reader for layer streams (ustar, pax, GNU long names). It pulls the uncompressed
/// stream through one large buffer, hashing and counting every byte as it arrives, so the diff_id and the
/// size limit come from the same single pass that feeds the files. Written here rather than using
/// System.Formats.Tar because that reader decodes pax values as text, which mangles binary xattr values
/// (security.capability) and allocates per entry more than unpacking at disk speed allows.
/// </summary>
internal sealed class LayerTarReader : IDisposable
{
    const int Block = 512;
    const int MaxMetadataSize = 16 << 20;

    readonly Stream source;
    readonly long maxBytes;
    readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    readonly byte[] buffer = new byte[1 << 20];
    int start, end;
    bool sourceEnded;
    long remaining, padding;
    string? pendingName, pendingLink;
    readonly Dictionary<string, byte[]> pax = new(StringComparer.Ordinal);
    readonly List<(string, byte[])> paxXattrs = [];

    public LayerTarReader(Stream source, long maxBytes)
    {
        this.source = source;
        this.maxBytes = maxBytes;
    }

    /// <summary>Bytes of the uncompressed stream read so far.</summary>
    public long TotalBytes { get; private set; }

    /// <summary>The archive ended without the two zero blocks, exactly at a member boundary.</summary>
    public bool EndedWithoutTrailer { get; private set; }

    /// <summary>Where in the uncompressed stream the reader is, for error messages.</summary>
    long Offset => TotalBytes - (end - start);

    bool Fill(int need)
    {
        if (end - start >= need)
            return true;
        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }
        while (end < need && !sourceEnded)
        {
            int n;
            try
            {
                n = source.Read(buffer, end, buffer.Length - end);
            }
            catch (InvalidDataException e)
            {
                throw new LayerUnpackException($"the layer's compressed data is corrupt or truncated after {TotalBytes} uncompressed bytes: {ErrorText.Reason(e)}", e);
            }
            if (n == 0)
            {
                sourceEnded = true;
                break;
            }
            hash.AppendData(buffer, end, n);
            TotalBytes += n;
            if (maxBytes > 0 && TotalBytes > maxBytes)
                throw new LayerUnpackException($"the layer expands to more than the limit of {maxBytes} bytes; unpacking stopped (a decompression bomb, or a limit set too low)");
            end += n;
        }
        return end - start >= need;
    }

    void Skip(long count)
    {
        while (count > 0)
        {
            if (end == start && !Fill(1))
                throw Truncated();
            var take = (int)Math.Min(count, end - start);
            start += take;
            count -= take;
        }
    }

    LayerUnpackException Truncated() =>
        new($"the layer's tar stream is truncated: it ends after {TotalBytes} bytes, inside a member");

    /// <summary>The next chunk of the current member's data (empty when it is all read), straight from the buffer.</summary>
    public ReadOnlySpan<byte> ReadData()
    {
        if (remaining == 0)
            return default;
        if (end == start && !Fill(1))
            throw Truncated();
        var take = (int)Math.Min(remaining, end - start);
        var chunk = buffer.AsSpan(start, take);
        start += take;
        remaining -= take;
        return chunk;
    }

    byte[] ReadMetadata(long size, string what)
    {
        if (size > MaxMetadataSize)
            throw new LayerUnpackException($"the layer's {what} header at offset {Offset} is {size} bytes, more than the {MaxMetadataSize} a real one needs");
        var data = new byte[size];
        var done = 0;
        while (done < size)
        {
            if (end == start && !Fill(1))
                throw Truncated();
            var take = (int)Math.Min(size - done, end - start);
            buffer.AsSpan(start, take).CopyTo(data.AsSpan(done));
            start += take;
            done += take;
        }
        Skip(PaddingOf(size));
        return data;
    }

    static long PaddingOf(long size) => (Block - size % Block) % Block;

    /// <summary>Advances to the next member; false at the end of the archive.</summary>
    public bool Next(TarEntry entry)
    {
        Skip(remaining + padding);
        remaining = padding = 0;
        pendingName = pendingLink = null;
        pax.Clear();
        paxXattrs.Clear();
        while (true)
        {
            if (!Fill(Block))
            {
                if (end == start)
                {
                    EndedWithoutTrailer = true;
                    return false;
                }
                throw new LayerUnpackException($"the layer's tar stream is truncated: it ends inside a header at offset {Offset}");
            }
            var header = buffer.AsSpan(start, Block);
            var headerOffset = Offset;
            if (!header.ContainsAnyExcept((byte)0))
            {
                start += Block;
                // The second zero block is optional in practice; what follows is drained by the caller.
                return false;
            }
            VerifyChecksum(header, headerOffset);
            var type = header[156];
            var size = ParseNumber(header.Slice(124, 12), "size", headerOffset);
            if (size < 0)
                throw new LayerUnpackException($"the layer's tar header at offset {headerOffset} has a negative size");
            switch (type)
            {
                case (byte)'x':
                    start += Block;
                    ParsePax(ReadMetadata(size, "pax"), headerOffset);
                    continue;
                case (byte)'g':
                    // Global pax headers (git archive's comment) carry nothing a layer needs.
                    start += Block;
                    Skip(size + PaddingOf(size));
                    continue;
                case (byte)'L':
                    start += Block;
                    pendingName = CString(ReadMetadata(size, "GNU long name"));
                    continue;
                case (byte)'K':
                    start += Block;
                    pendingLink = CString(ReadMetadata(size, "GNU long link"));
                    continue;
                case (byte)'S':
                    throw new LayerUnpackException($"the layer holds a GNU sparse file at offset {headerOffset}; sparse members are not supported in image layers");
                case (byte)'M' or (byte)'N':
                    throw new LayerUnpackException($"the layer holds a GNU multi-volume or old long-name member (type '{(char)type}') at offset {headerOffset}, which image layers never contain");
            }
            FillEntry(entry, header, type, size, headerOffset);
            start += Block;
            if (entry.Size < 0)
                throw new LayerUnpackException($"the layer's member '{entry.Name}' declares a negative size");
            // Only regular files have data to write; any other member that declares a size has it skipped.
            remaining = entry.Type == TarEntry.Regular ? entry.Size : 0;
            padding = PaddingOf(entry.Size) + (entry.Size - remaining);
            return true;
        }
    }

    void FillEntry(TarEntry entry, ReadOnlySpan<byte> header, byte type, long size, long offset)
    {
        entry.Reset();
        var posix = header.Slice(257, 6).SequenceEqual("ustar\0"u8);
        var name = CString(header[..100]);
        if (posix && header[345] != 0)
            name = CString(header.Slice(345, 155)) + "/" + name;
        entry.Name = pendingName ?? name;
        entry.LinkName = pendingLink ?? CString(header.Slice(157, 100));
        entry.Mode = (uint)(ParseNumber(header.Slice(100, 8), "mode", offset) & 0xFFFFFFFF);
        entry.Uid = ParseNumber(header.Slice(108, 8), "uid", offset);
        entry.Gid = ParseNumber(header.Slice(116, 8), "gid", offset);
        entry.ModifySeconds = ParseNumber(header.Slice(136, 12), "mtime", offset);
        entry.Size = size;
        if (type is (byte)'3' or (byte)'4')
        {
            entry.DeviceMajor = (uint)ParseNumber(header.Slice(329, 8), "devmajor", offset);
            entry.DeviceMinor = (uint)ParseNumber(header.Slice(337, 8), "devminor", offset);
        }
        foreach (var (key, value) in pax)
            ApplyPax(entry, key, value, offset);
        entry.Xattrs.AddRange(paxXattrs);
        entry.Type = type switch
        {
            0 or (byte)'0' or (byte)'7' => entry.Name.EndsWith('/') ? TarEntry.Directory : TarEntry.Regular,
            _ => type,
        };
    }

    static void ApplyPax(TarEntry entry, string key, byte[] value, long offset)
    {
        switch (key)
        {
            case "path": entry.Name = Encoding.UTF8.GetString(value); break;
            case "linkpath": entry.LinkName = Encoding.UTF8.GetString(value); break;
            case "size": entry.Size = ParseDecimal(value, key, offset); break;
            case "uid": entry.Uid = ParseDecimal(value, key, offset); break;
            case "gid": entry.Gid = ParseDecimal(value, key, offset); break;
            case "mtime": (entry.ModifySeconds, entry.ModifyNanoseconds) = ParseTime(value, offset); break;
            case "atime":
                (entry.AccessSeconds, entry.AccessNanoseconds) = ParseTime(value, offset);
                entry.HasAccessTime = true;
                break;
            case "SCHILY.devmajor": entry.DeviceMajor = (uint)ParseDecimal(value, key, offset); break;
            case "SCHILY.devminor": entry.DeviceMinor = (uint)ParseDecimal(value, key, offset); break;
        }
    }

    void ParsePax(byte[] data, long offset)
    {
        var rest = data.AsSpan();
        while (rest.Length > 0)
        {
            var space = rest.IndexOf((byte)' ');
            if (space <= 0)
                throw BadPax(offset);
            var length = ParseDecimal(rest[..space].ToArray(), "record length", offset);
            if (length <= space + 1 || length > rest.Length || rest[(int)length - 1] != '\n')
                throw BadPax(offset);
            var record = rest[(space + 1)..((int)length - 1)];
            rest = rest[(int)length..];
            var equals = record.IndexOf((byte)'=');
            if (equals <= 0)
                throw BadPax(offset);
            var key = Encoding.UTF8.GetString(record[..equals]);
            var value = record[(equals + 1)..].ToArray();
            if (key.StartsWith("GNU.sparse.", StringComparison.Ordinal))
                throw new LayerUnpackException($"the layer holds a GNU sparse file (pax header at offset {offset}); sparse members are not supported in image layers");
            if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
                AddXattr(key["SCHILY.xattr.".Length..], value);
            else if (key.StartsWith("LIBARCHIVE.xattr.", StringComparison.Ordinal))
            {
                // libarchive's form: the name URL-encoded, the value base64.
                var name = Uri.UnescapeDataString(key["LIBARCHIVE.xattr.".Length..]);
                var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(value.Length)];
                if (Base64.DecodeFromUtf8(value, decoded, out _, out var written) != System.Buffers.OperationStatus.Done)
                    throw BadPax(offset);
                if (!paxXattrs.Exists(x => x.Item1 == name))
                    AddXattr(name, decoded.AsSpan(0, written).ToArray());
            }
            else if (value.Length == 0)
                pax.Remove(key);
            else
                pax[key] = value;
        }
    }

    void AddXattr(string name, byte[] value)
    {
        paxXattrs.RemoveAll(x => x.Item1 == name);
        paxXattrs.Add((name, value));
    }

    static LayerUnpackException BadPax(long offset) => new($"the layer's pax header at offset {offset} is malformed");

    static void VerifyChecksum(ReadOnlySpan<byte> header, long offset)
    {
        long unsigned = 0, signed = 0;
        for (var i = 0; i < Block; i++)
        {
            var b = i is >= 148 and < 156 ? (byte)' ' : header[i];
            unsigned += b;
            signed += (sbyte)b;
        }
        var recorded = ParseNumber(header.Slice(148, 8), "checksum", offset);
        if (recorded != unsigned && recorded != signed)
            throw new LayerUnpackException($"the layer is not a valid tar stream: the header checksum at offset {offset} does not match");
    }

    static string CString(ReadOnlySpan<byte> field)
    {
        var nul = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? field : field[..nul]);
    }

    /// <summary>A numeric header field: octal text, or GNU base-256 when the high bit of the first byte is set.</summary>
    static long ParseNumber(ReadOnlySpan<byte> field, string what, long offset)
    {
        if (field.Length > 0 && (field[0] & 0x80) != 0)
        {
            byte invert = (field[0] & 0x40) != 0 ? (byte)0xff : (byte)0;
            ulong x = 0;
            for (var i = 0; i < field.Length; i++)
            {
                var c = (byte)(field[i] ^ invert);
                if (i == 0)
                    c &= 0x7f;
                if (x >> 56 != 0)
                    throw new LayerUnpackException($"the layer's tar header at offset {offset} has a {what} too large to represent");
                x = x << 8 | c;
            }
            if (x >> 63 != 0)
                throw new LayerUnpackException($"the layer's tar header at offset {offset} has a {what} too large to represent");
            return invert == 0xff ? ~(long)x : (long)x;
        }
        long value = 0;
        var seenDigit = false;
        foreach (var c in field)
        {
            if (c is (byte)' ' or 0)
            {
                if (seenDigit)
                    break;
                continue;
            }
            if (c is < (byte)'0' or > (byte)'7')
                throw new LayerUnpackException($"the layer is not a valid tar stream: the {what} field of the header at offset {offset} is not an octal number");
            seenDigit = true;
            value = value * 8 + (c - '0');
        }
        return value;
    }

    static long ParseDecimal(byte[] text, string what, long offset)
    {
        if (!long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value))
            throw new LayerUnpackException($"the layer's pax header at offset {offset} has a {what} that is not a number");
        return value;
    }

    static (long Seconds, uint Nanoseconds) ParseTime(byte[] text, long offset)
    {
        var s = Encoding.ASCII.GetString(text);
        var negative = s.StartsWith('-');
        if (negative)
            s = s[1..];
        var dot = s.IndexOf('.');
        var whole = dot < 0 ? s : s[..dot];
        var fraction = dot < 0 ? "" : s[(dot + 1)..];
        if (!long.TryParse(whole, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            || fraction.Any(c => c is < '0' or > '9'))
            throw new LayerUnpackException($"the layer's pax header at offset {offset} has a time that is not a number");
        var nanos = fraction.Length == 0 ? 0u : uint.Parse((fraction.Length > 9 ? fraction[..9] : fraction.PadRight(9, '0')), System.Globalization.CultureInfo.InvariantCulture);
        if (!negative)
            return (seconds, nanos);
        return nanos == 0 ? (-seconds, 0u) : (-seconds - 1, 1_000_000_000u - nanos);
    }

    /// <summary>Reads what follows the end of the archive (record padding) so the digest covers the whole stream.</summary>
    public void DrainToEnd()
    {
        start = end = 0;
        while (Fill(buffer.Length))
            start = end = 0;
        start = end = 0;
    }

    /// <summary>sha256 of every byte read.</summary>
    public byte[] Hash() => hash.GetHashAndReset();

    public void Dispose() => hash.Dispose();
}
