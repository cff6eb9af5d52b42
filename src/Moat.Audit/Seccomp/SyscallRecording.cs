namespace Moat.Audit.Seccomp;

/// <summary>
/// What a recorded run did: every system call by name (per architecture), and the arguments the OCI
/// format can express a rule on: clone's flags and socket's address family.
/// </summary>
public sealed class SyscallRecording
{
    readonly Dictionary<uint, SortedSet<string>> namesByArch = [];
    readonly SortedSet<ulong> cloneFlags = [];
    readonly SortedSet<int> socketFamilies = [];
    readonly SortedSet<string> unnamed = new(StringComparer.Ordinal);

    /// <summary>The calls by architecture token (AUDIT_ARCH_*).</summary>
    public IReadOnlyDictionary<uint, SortedSet<string>> NamesByArch => namesByArch;
    /// <summary>Every call name, over all architectures.</summary>
    public IReadOnlySet<string> Names => namesByArch.Values.SelectMany(n => n).ToHashSet(StringComparer.Ordinal);
    /// <summary>The distinct flags words clone was called with.</summary>
    public IReadOnlySet<ulong> CloneFlags => cloneFlags;
    /// <summary>The distinct address families socket was called with.</summary>
    public IReadOnlySet<int> SocketFamilies => socketFamilies;
    /// <summary>"arch:number" of calls libseccomp has no name for (they cannot be named in a profile).</summary>
    public IReadOnlySet<string> Unnamed => unnamed;
    /// <summary>How many calls were trapped and let through.</summary>
    public long Count { get; private set; }

    public void Add(uint arch, string name)
    {
        if (!namesByArch.TryGetValue(arch, out var names))
            namesByArch[arch] = names = new SortedSet<string>(StringComparer.Ordinal);
        names.Add(name);
        Count++;
    }

    public void AddCloneFlags(ulong flags) => cloneFlags.Add(flags);

    public void AddSocketFamily(int family) => socketFamilies.Add(family);

    public void AddUnnamed(uint arch, int number)
    {
        unnamed.Add($"0x{arch:x}:{number}");
        Count++;
    }
}
