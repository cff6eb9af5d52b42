using System.Text;
using System.Text.Json;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Runtime.Seccomp;

/// <summary>
/// Compiled filters kept on disk, as crun does: libseccomp needs about 10 ms to compile the
/// default profile for x86_64+x86+x32, on every <c>create</c>, while engines pass the same profile
/// to every container. The key is everything the result depends on: the profile, this build of
/// Moat, the libseccomp library file (its syscall tables), and the kernel (which flags and
/// actions it supports). A miss, or an unreadable entry, compiles and stores afresh;
/// the cache can be deleted at any time. It must live in a directory only root can write (the
/// runtime's state root): whoever can write an entry chooses the filter of the next container.
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
        var key = KeyText(seccomp);
        var path = System.IO.Path.Combine(directory, EntryName(key));
        if (TryRead(path, key) is { } cached)
            return cached;
        var compiled = SeccompCompiler.Compile(seccomp);
        TryWrite(directory, path, new SeccompCacheEntry { Key = key, Filter = compiled });
        return compiled;
    }

    /// <summary>The file name of a profile's entry on this host (it loads libseccomp to identify it).</summary>
    public static string EntryName(LinuxSeccomp seccomp) => EntryName(KeyText(seccomp));

    static string EntryName(string key) => $"{Fnv1a64(key):x16}{Extension}";

    /// <summary>
    /// Everything the compiled filter depends on, as text. The entry stores it whole and a hit
    /// compares it exactly, so the (fast, non-cryptographic) hash in the file name only spreads
    /// entries: two profiles that collide simply take turns in one file.
    /// </summary>
    static string KeyText(LinuxSeccomp seccomp)
    {
        var text = new StringBuilder();
        text.Append("moat seccomp cache 1\n");
        text.Append(BuildIdentity()).Append('\n');
        text.Append(LibseccompIdentity()).Append('\n');
        text.Append(ReadOrEmpty("/proc/sys/kernel/osrelease")).Append(ReadOrEmpty("/proc/sys/kernel/version"));
        text.Append(Encoding.UTF8.GetString(Moat.Oci.Json.SpecJson.ToUtf8Bytes(seccomp)));
        return text.ToString();
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

    static ulong Fnv1a64(string text)
    {
        var hash = 0xcbf29ce484222325UL;
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * 0x100000001b3UL;
            hash = (hash ^ (byte)(c >> 8)) * 0x100000001b3UL;
        }
        return hash;
    }

    /// <summary>Version, path, size and time of the libseccomp.so.2 this process loaded (distributions patch tables without a new version).</summary>
    static string LibseccompIdentity()
    {
        var version = SeccompCompiler.LibseccompVersion; // loads it, or throws the "not available" error
        string? file = null;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var at = line.IndexOf('/');
            if (at > 0 && line.AsSpan(at).Contains("/libseccomp.so", StringComparison.Ordinal))
            {
                file = line[at..];
                break;
            }
        }
        if (file is null)
            return version;
        var info = new FileInfo(file);
        return $"{version} {file} {info.Length} {info.LastWriteTimeUtc.Ticks}";
    }

    static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    static CompiledSeccompFilter? TryRead(string path, string key)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            var entry = State.RuntimeJson.ReadCacheEntry(bytes);
            if (entry.Key != key || entry.Filter is not { } filter)
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

    static void TryWrite(string directory, string path, SeccompCacheEntry entry)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.WriteAllBytes(temporary, State.RuntimeJson.WriteCacheEntry(entry.Key, entry.Filter!));
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

/// <summary>One cache file: the full key it was compiled for, and the result.</summary>
internal sealed class SeccompCacheEntry
{
    [System.Text.Json.Serialization.JsonPropertyName("key")]
    public string Key { get; set; } = "";

    [System.Text.Json.Serialization.JsonPropertyName("filter")]
    public CompiledSeccompFilter? Filter { get; set; }
}
