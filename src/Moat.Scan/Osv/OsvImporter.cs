using System.IO.Compression;

namespace Moat.Scan.Osv;

/// <summary>
/// Reads OSV data as osv.dev publishes it: single record files (*.json), a directory of them (searched
/// recursively), or an ecosystem's all.zip. Every record is parsed before anything is stored, and the
/// whole import is one transaction.
/// </summary>
public static class OsvImporter
{
    /// <summary>One zip entry or file may not be larger than this (real records are kilobytes).</summary>
    const long MaxRecordBytes = 64L << 20;

    public static ImportCounts Import(VulnerabilityDatabase database, IEnumerable<string> paths)
    {
        var records = new List<OsvRecord>();
        var files = 0;
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var found = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0)
                    throw new ScanException($"{path} holds no OSV files (*.json or *.zip)");
                foreach (var file in found)
                    files += ReadFile(file, records);
            }
            else if (File.Exists(path))
                files += ReadFile(path, records);
            else
                throw new ScanException($"{path} does not exist");
        }
        return database.Import(records, files);
    }

    static int ReadFile(string path, List<OsvRecord> records)
    {
        if (path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                using var zip = ZipFile.OpenRead(path);
                var count = 0;
                foreach (var entry in zip.Entries)
                {
                    if (!entry.FullName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                        continue;
                    if (entry.Length > MaxRecordBytes)
                        throw new ScanException($"{entry.FullName} in {path} is {entry.Length} bytes: not an OSV record");
                    using var stream = entry.Open();
                    using var buffer = new MemoryStream((int)entry.Length);
                    stream.CopyTo(buffer);
                    records.Add(OsvRecord.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), $"{entry.FullName} in {path}"));
                    count++;
                }
                if (count == 0)
                    throw new ScanException($"{path} holds no OSV records (*.json entries)");
                return 1;
            }
            catch (InvalidDataException e)
            {
                throw new ScanException($"{path} is not a readable zip archive ({Moat.Oci.ErrorText.Reason(e)})", e);
            }
        }
        var info = new FileInfo(path);
        if (info.Length > MaxRecordBytes)
            throw new ScanException($"{path} is {info.Length} bytes: not an OSV record");
        records.Add(OsvRecord.Parse(File.ReadAllBytes(path), path));
        return 1;
    }
}
