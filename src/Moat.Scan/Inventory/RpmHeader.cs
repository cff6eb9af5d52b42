using System.Buffers.Binary;
using System.Text;

namespace Moat.Scan.Inventory;

/// <summary>
/// An rpm header as the rpm database stores it (the "header blob"): a big-endian count of index entries
/// and the size of the data store, then the entries (tag, type, offset, count; 16 bytes each), then the
/// data store they point into. Only the tags a package inventory needs are read.
/// </summary>
public sealed class RpmHeader
{
    public const int TagName = 1000, TagVersion = 1001, TagRelease = 1002, TagEpoch = 1003, TagLicense = 1014,
        TagArch = 1022, TagSourceRpm = 1044;
    const int TypeInt32 = 4, TypeString = 6, TypeStringArray = 8, TypeI18nString = 9;
    /// <summary>rpm's own limits (hdrchk): 64 Ki index entries, a 256 MiB data store.</summary>
    const int MaxEntries = 0xffff, MaxData = 256 << 20;

    readonly Dictionary<int, string> strings = [];
    readonly Dictionary<int, int> numbers = [];

    RpmHeader() { }

    public string? String(int tag) => strings.GetValueOrDefault(tag);
    public int? Number(int tag) => numbers.TryGetValue(tag, out var n) ? n : null;

    static readonly HashSet<int> Wanted = [TagName, TagVersion, TagRelease, TagEpoch, TagLicense, TagArch, TagSourceRpm];

    public static RpmHeader Parse(ReadOnlySpan<byte> blob, string what)
    {
        if (blob.Length < 8)
            throw new ScanException($"{what} is not an rpm header: {blob.Length} bytes, fewer than the 8 of its preamble");
        var entries = BinaryPrimitives.ReadInt32BigEndian(blob);
        var dataLength = BinaryPrimitives.ReadInt32BigEndian(blob[4..]);
        if (entries < 1 || entries > MaxEntries || dataLength < 0 || dataLength > MaxData)
            throw new ScanException($"{what} is not an rpm header: it claims {entries} entries and {dataLength} bytes of data");
        var storeStart = 8 + (long)entries * 16;
        if (storeStart + dataLength > blob.Length)
            throw new ScanException($"{what} is a truncated rpm header: {blob.Length} bytes where its index says {storeStart + dataLength}");
        var store = blob.Slice((int)storeStart, dataLength);
        var header = new RpmHeader();
        for (var i = 0; i < entries; i++)
        {
            var entry = blob.Slice(8 + i * 16, 16);
            var tag = BinaryPrimitives.ReadInt32BigEndian(entry);
            if (!Wanted.Contains(tag))
                continue;
            var type = BinaryPrimitives.ReadInt32BigEndian(entry[4..]);
            var offset = BinaryPrimitives.ReadInt32BigEndian(entry[8..]);
            var count = BinaryPrimitives.ReadInt32BigEndian(entry[12..]);
            if (offset < 0 || offset >= store.Length || count < 1)
                throw new ScanException($"{what}: the rpm header's tag {tag} points outside its data ({offset} of {store.Length} bytes)");
            switch (type)
            {
                case TypeString or TypeStringArray or TypeI18nString:
                    var rest = store[offset..];
                    var end = rest.IndexOf((byte)0);
                    if (end < 0)
                        throw new ScanException($"{what}: the rpm header's tag {tag} is a string without its terminating NUL");
                    header.strings[tag] = Encoding.UTF8.GetString(rest[..end]);
                    break;
                case TypeInt32:
                    if (offset + 4 > store.Length)
                        throw new ScanException($"{what}: the rpm header's tag {tag} is a number cut off by the end of its data");
                    header.numbers[tag] = BinaryPrimitives.ReadInt32BigEndian(store[offset..]);
                    break;
            }
        }
        return header;
    }

    /// <summary>The package it describes; null for rpm's gpg-pubkey pseudo-packages (imported keys, not software).</summary>
    public InstalledPackage? ToPackage(string database, string what)
    {
        var name = String(TagName) ?? throw new ScanException($"{what}: an rpm header without a NAME");
        if (name == "gpg-pubkey")
            return null;
        var version = String(TagVersion) ?? throw new ScanException($"{what}: the rpm header of {name} has no VERSION");
        var release = String(TagRelease);
        var full = release is null ? version : version + "-" + release;
        if (Number(TagEpoch) is { } epoch)
            full = epoch + ":" + full;
        var source = SourceName(String(TagSourceRpm));
        return new InstalledPackage
        {
            Kind = PackageKind.Rpm,
            Name = name,
            Version = full,
            SourceName = source == name ? null : source,
            Architecture = String(TagArch),
            License = String(TagLicense),
            Database = database,
        };
    }

    /// <summary>"glibc-2.34-60.el9.src.rpm" → "glibc": the name before the version and release.</summary>
    internal static string? SourceName(string? sourceRpm)
    {
        if (string.IsNullOrEmpty(sourceRpm))
            return null;
        var text = sourceRpm;
        foreach (var suffix in new[] { ".src.rpm", ".nosrc.rpm" })
            if (text.EndsWith(suffix, StringComparison.Ordinal))
                text = text[..^suffix.Length];
        var release = text.LastIndexOf('-');
        if (release <= 0) return text;
        var version = text.LastIndexOf('-', release - 1);
        return version <= 0 ? text : text[..version];
    }
}
