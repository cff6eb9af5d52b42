using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Seccomp;

/// <summary>
/// Compiled filters kept on disk, as crun does: libseccomp needs about 10 ms to compile the
/// default profile for x86_64+x86+x32, on every <c>create</c>, while engines pass the same profile
/// to every container. The result depends on the profile, this build of Moat, the kernel (which
/// flags and actions it supports) and the libseccomp library file (its syscall tables). The key
/// holds the first three and what decides which library the dynamic loader picks
/// (LD_LIBRARY_PATH, LD_PRELOAD, /etc/ld.so.cache, /etc/ld.so.preload); the entry records the
/// library file that compiled it, and a hit requires that file unchanged. So a hit costs a few
/// stat calls and never loads libseccomp (a dlopen, its relocations and ~120 KB of mapped pages in
/// every create). A miss, or an unreadable entry, compiles and stores afresh; the cache can be
/// deleted at any time. It must live in a directory only root can write (the runtime's state root):
/// whoever can write an entry chooses the filter of the next container.
/// </summary>
public static class SeccompCache
{
    const string Extension = ".bpf.json";

    /// <summary>
    /// The compiled filter for <paramref name="seccomp"/>, from <paramref name="directory"/> when the
    /// same profile was compiled before on this host, otherwise compiled now (errors as
    /// <see cref="SeccompCompiler.Compile"/>) and stored. Failing to store is not an error.
    /// </summary>
    public static CompiledSeccompFilter GetOrCompile(LinuxSeccomp seccomp, string directory)
    {
        ArgumentNullException.ThrowIfNull(seccomp);
        var key = Key(seccomp);
        var path = System.IO.Path.Combine(directory, EntryName(key));
        if (TryRead(path, key) is { } cached)
            return cached;
        var compiled = SeccompCompiler.Compile(seccomp);
        TryWrite(directory, path, State.RuntimeJson.WriteCacheEntry(key, LibraryIdentity(), compiled));
        return compiled;
    }

    /// <summary>The file name of a profile's entry on this host.</summary>
    public static string EntryName(LinuxSeccomp seccomp) => EntryName(Key(seccomp));

    static string EntryName(byte[] key) => $"{Fnv1a64(key):x16}{Extension}";

    /// <summary>
    /// Everything the compiled filter depends on but the library file, as UTF-8. The entry stores it
    /// whole and a hit compares it exactly, so the (fast, non-cryptographic) hash in the file name
    /// only spreads entries: two profiles that collide simply take turns in one file.
    /// </summary>
    static byte[] Key(LinuxSeccomp seccomp)
    {
        var key = new ArrayBufferWriter<byte>(8192);
        Append(key, "moat seccomp cache 2\n");
        Append(key, BuildIdentity());
        Append(key, "\n");
        Append(key, LoaderIdentity());
        Append(key, "\n");
        key.Write(Libc.TryReadFile("/proc/sys/kernel/osrelease") ?? []);
        key.Write(Libc.TryReadFile("/proc/sys/kernel/version") ?? []);
        key.Write(Moat.Oci.Json.SpecJson.ToUtf8Bytes(seccomp));
        return key.WrittenSpan.ToArray();
    }

    static void Append(ArrayBufferWriter<byte> key, string text)
    {
        var span = key.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        key.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    /// <summary>
    /// Which moat build compiled the entry: its binary's size and modification time, so a rebuilt or
    /// replaced binary starts afresh. (Not the module's version id: reading that is reflection, which
    /// costs a millisecond at start-up under NativeAOT.)
    /// </summary>
    static string BuildIdentity()
    {
        var binary = new FileInfo(Environment.ProcessPath ?? "/proc/self/exe");
        return binary.Exists ? $"{binary.Length} {binary.LastWriteTimeUtc.Ticks}" : "unknown build";
    }

    /// <summary>What the dynamic loader reads to find libseccomp.so.2 (the binary itself has no RUNPATH).</summary>
    static string LoaderIdentity() =>
        $"LD_LIBRARY_PATH={Environment.GetEnvironmentVariable("LD_LIBRARY_PATH")} LD_PRELOAD={Environment.GetEnvironmentVariable("LD_PRELOAD")} " +
        $"{FileIdentity("/etc/ld.so.cache")} {FileIdentity("/etc/ld.so.preload")}";

    static string FileIdentity(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? $"{info.Length}:{info.LastWriteTimeUtc.Ticks}" : "-";
    }

    static ulong Fnv1a64(ReadOnlySpan<byte> bytes)
    {
        var hash = 0xcbf29ce484222325UL;
        foreach (var b in bytes)
            hash = (hash ^ b) * 0x100000001b3UL;
        return hash;
    }

    /// <summary>
    /// The libseccomp.so.2 this process loaded (it compiled just now): "size mtime version path"
    /// (distributions patch tables without a new version, so the file counts, not the version).
    /// </summary>
    static string LibraryIdentity()
    {
        var version = SeccompCompiler.LibseccompVersion;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var at = line.IndexOf('/');
            if (at > 0 && line.AsSpan(at).Contains("/libseccomp.so", StringComparison.Ordinal))
            {
                var file = line[at..];
                var info = new FileInfo(file);
                return info.Exists ? $"{info.Length} {info.LastWriteTimeUtc.Ticks} {version} {file}" : "";
            }
        }
        return "";
    }

    /// <summary>Whether the library an entry names is still there, the same file.</summary>
    static bool LibraryUnchanged(string library)
    {
        var fields = library.Split(' ', 4);
        if (fields.Length != 4 || !fields[3].StartsWith('/'))
            return false;
        var info = new FileInfo(fields[3]);
        return info.Exists && fields[0] == info.Length.ToString(CultureInfo.InvariantCulture)
            && fields[1] == info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture);
    }

    static CompiledSeccompFilter? TryRead(string path, byte[] key)
    {
        try
        {
            var entry = State.RuntimeJson.ReadCacheEntry(File.ReadAllBytes(path));
            if (!entry.Key.AsSpan().SequenceEqual(key) || entry.Filter is not { } filter || !LibraryUnchanged(entry.Library))
                return null;
            if (filter.Program.Length == 0 || filter.Program.Length % BpfInstruction.Size != 0
                || filter.InstructionCount > Libc.BPF_MAXINSNS)
                return null;
            return filter;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    static void TryWrite(string directory, string path, byte[] entry)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.WriteAllBytes(temporary, entry);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // A stale temporary file is harmless.
            }
        }
    }
}
