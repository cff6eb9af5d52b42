using Moat.Oci;
using System.Formats.Tar;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Moat.Images.Model;
using Moat.Images.Storage;

namespace Moat.Images.Archives;

/// <summary>
/// What archive readers share. Member names are only ever compared with the names an archive's own
/// index promises (never turned into host paths), and every blob goes into the store through an ingest
/// that verifies its digest and size: a `..` name, an absolute path or a symlink member cannot reach
/// the disk, and a lying index cannot plant a wrong blob.
/// </summary>
internal static class ArchiveEntries
{
    /// <summary>Index documents (manifest.json, index.json, configs, manifests) above this are refused unread.</summary>
    public const long MaxDocumentBytes = 32 << 20;

    /// <summary>The member's name without a leading "./", or null when it is not a plain relative name.</summary>
    public static string? NormalizeName(string name)
    {
        while (name.StartsWith("./", StringComparison.Ordinal))
            name = name[2..];
        if (name.Length == 0 || name.StartsWith('/') || name.Split('/').Any(part => part is ".." or "."))
            return null;
        return name;
    }

    /// <summary>The digest a `blobs/&lt;algorithm&gt;/&lt;hex&gt;` member name stands for, or null.</summary>
    public static Digest? BlobDigestOf(string name)
    {
        var parts = name.Split('/');
        return parts.Length == 3 && parts[0] == "blobs" && Digest.TryParse($"{parts[1]}:{parts[2]}", out var digest) ? digest : null;
    }

    public static bool IsRegularFile(TarEntry entry) => entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile;

    public static byte[] ReadDocument(TarEntry entry, string what)
    {
        if (entry.Length > MaxDocumentBytes)
            throw new ArchiveException($"{what} in the archive is {entry.Length} bytes, more than a document of its kind can be ({MaxDocumentBytes >> 20} MiB)");
        using var buffer = new MemoryStream((int)entry.Length);
        entry.DataStream?.CopyTo(buffer);
        return buffer.ToArray();
    }

    public static T ParseDocument<T>(byte[] utf8, JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, type) ?? throw new ArchiveException($"{what} in the archive is JSON null");
        }
        catch (JsonException e)
        {
            throw new ArchiveException($"{what} in the archive is not valid JSON: {ErrorText.Reason(e)}", e);
        }
    }

    /// <summary>Copies a member into the store as <paramref name="expected"/>; the ingest refuses content that does not match.</summary>
    public static void Ingest(IBlobStore store, Stream content, Digest expected, long size, string what)
    {
        using var ingest = store.BeginIngest(expected, size);
        if (ingest.AlreadyPresent)
            return;
        if (ingest.Offset != 0)
            ingest.Restart();
        content.CopyTo(ingest.Stream);
        try
        {
            ingest.Commit();
        }
        catch (Exception e) when (e is not ArchiveException)
        {
            throw new ArchiveException($"{what} in the archive does not match its digest {expected}: {ErrorText.Reason(e)}", e);
        }
    }
}
