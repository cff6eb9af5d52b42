using System.Buffers.Binary;

namespace Moat.Audit.Host;

/// <summary>
/// The exploit mitigations of an ELF64 little-endian executable, read from its headers: PIE (ET_DYN), RELRO
/// (PT_GNU_RELRO; full with BIND_NOW in the dynamic section) and NX (a PT_GNU_STACK without PF_X).
/// </summary>
public sealed record ElfHardening(bool Pie, bool Relro, bool FullRelro, bool NonExecutableStack)
{
    const uint PT_DYNAMIC = 2, PT_GNU_STACK = 0x6474e551, PT_GNU_RELRO = 0x6474e552, PF_X = 1;
    const long DT_NULL = 0, DT_BIND_NOW = 24, DT_FLAGS = 30, DT_FLAGS_1 = 0x6ffffffb;
    const ulong DF_BIND_NOW = 8, DF_1_NOW = 1;

    /// <summary>Reads the headers through <paramref name="files"/>; null with the reason when the file is not an ELF64 LE executable.</summary>
    public static ElfHardening? Read(IHostFiles files, string path, out string? problem)
    {
        problem = null;
        Span<byte> header = stackalloc byte[64];
        if (files.ReadAt(path, 0, header) < 64 || !header[..4].SequenceEqual("\u007fELF"u8))
        {
            problem = "not an ELF file";
            return null;
        }
        if (header[4] != 2 || header[5] != 1)
        {
            problem = "not a 64-bit little-endian ELF file";
            return null;
        }
        var type = BinaryPrimitives.ReadUInt16LittleEndian(header[16..]);
        var phoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[54..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(header[56..]);
        if (phentsize < 56 || phnum == 0 || phnum > 512)
        {
            problem = "its program headers are missing or malformed";
            return null;
        }
        var table = new byte[phentsize * phnum];
        if (files.ReadAt(path, phoff, table) < table.Length)
        {
            problem = "its program headers are cut short";
            return null;
        }
        bool relro = false, stackSeen = false, stackExecutable = false, bindNow = false;
        for (var i = 0; i < phnum; i++)
        {
            var entry = table.AsSpan(i * phentsize, phentsize);
            var kind = BinaryPrimitives.ReadUInt32LittleEndian(entry);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
            if (kind == PT_GNU_RELRO) relro = true;
            else if (kind == PT_GNU_STACK) { stackSeen = true; stackExecutable = (flags & PF_X) != 0; }
            else if (kind == PT_DYNAMIC) bindNow = ReadBindNow(files, path, (long)BinaryPrimitives.ReadUInt64LittleEndian(entry[8..]), (long)BinaryPrimitives.ReadUInt64LittleEndian(entry[32..]));
        }
        // No PT_GNU_STACK: the kernel gives such a program an executable stack (READ_IMPLIES_EXEC on x86).
        return new ElfHardening(type == 3, relro, relro && bindNow, stackSeen && !stackExecutable);
    }

    static bool ReadBindNow(IHostFiles files, string path, long offset, long size)
    {
        if (size <= 0 || size > 1 << 20) return false;
        var dynamic = new byte[size];
        var read = files.ReadAt(path, offset, dynamic);
        for (var at = 0; at + 16 <= read; at += 16)
        {
            var tag = BinaryPrimitives.ReadInt64LittleEndian(dynamic.AsSpan(at));
            var value = BinaryPrimitives.ReadUInt64LittleEndian(dynamic.AsSpan(at + 8));
            if (tag == DT_NULL) break;
            if (tag == DT_BIND_NOW || (tag == DT_FLAGS && (value & DF_BIND_NOW) != 0) || (tag == DT_FLAGS_1 && (value & DF_1_NOW) != 0))
                return true;
        }
        return false;
    }
}
