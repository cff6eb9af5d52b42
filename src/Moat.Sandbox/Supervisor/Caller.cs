using Moat.Interop;

namespace Moat.Sandbox.Supervisor;

/// <summary>
/// The process behind one trapped call, as the supervisor needs it: its thread id (host view), thread
/// group, its pid and tid in its own pid namespace (for /proc/self), file-system ids, groups,
/// effective capabilities and umask, read from /proc/TID/status (kept per thread by <see cref="CallerCache"/>,
/// which knows when they change).
/// </summary>
public sealed class Caller
{
    public int Tid { get; private init; }
    public int Tgid { get; private init; }
    public int NsTgid { get; private init; }
    public int NsTid { get; private init; }
    public uint FsUid { get; private init; }
    public uint FsGid { get; private init; }
    public uint EUid { get; private init; }
    public uint EGid { get; private init; }
    public uint RUid { get; private init; }
    public uint RGid { get; private init; }
    public uint[] Groups { get; private init; } = [];
    public ulong CapEff { get; private init; }
    public uint Umask { get; private init; }
    /// <summary>
    /// Its /proc/TID/mem, opened when the entry was cached (-1: none): paths are read through it. Valid as
    /// long as the cache entry: the thread alive (its pidfd) and no execve since (which drops the entry).
    /// </summary>
    public int Memory { get; internal set; } = -1;

    public const int CAP_CHOWN = 0, CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2, CAP_FOWNER = 3, CAP_NET_BIND_SERVICE = 10;

    public bool Has(int capability) => (CapEff & (1UL << capability)) != 0;

    /// <summary>The caller's facts, or null when it is gone.</summary>
    public static unsafe Caller? Read(int tid)
    {
        var path = stackalloc byte[32];
        var text = $"/proc/{tid}/status\0";
        for (var i = 0; i < text.Length; i++)
            path[i] = (byte)text[i];
        var fd = Libc.BrokerOpenat(Libc.AT_FDCWD, path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return null;
        const int Size = 16384;
        var buffer = stackalloc byte[Size];
        int length;
        try
        {
            var n = Libc.read(fd, buffer, Size);
            if (n <= 0)
                return null;
            length = (int)n;
        }
        finally
        {
            Libc.close(fd);
        }
        var span = new ReadOnlySpan<byte>(buffer, length);
        int tgid = 0, nsTgid = 0, nsTid = 0;
        uint fsUid = 0, fsGid = 0, eUid = 0, eGid = 0, rUid = 0, rGid = 0, umask = 0x12;
        ulong capEff = 0;
        uint[] groups = [];
        while (!span.IsEmpty)
        {
            var end = span.IndexOf((byte)'\n');
            var line = end < 0 ? span : span[..end];
            span = end < 0 ? default : span[(end + 1)..];
            var colon = line.IndexOf((byte)':');
            if (colon < 0)
                continue;
            var key = line[..colon];
            var value = line[(colon + 1)..];
            if (key.SequenceEqual("Tgid"u8)) tgid = (int)Last(value, first: true);
            else if (key.SequenceEqual("NStgid"u8)) nsTgid = (int)Last(value, first: false);
            else if (key.SequenceEqual("NSpid"u8)) nsTid = (int)Last(value, first: false);
            else if (key.SequenceEqual("Umask"u8)) umask = (uint)Octal(value);
            else if (key.SequenceEqual("CapEff"u8)) capEff = Hex(value);
            else if (key.SequenceEqual("Uid"u8)) (rUid, eUid, fsUid) = Ids(value);
            else if (key.SequenceEqual("Gid"u8)) (rGid, eGid, fsGid) = Ids(value);
            else if (key.SequenceEqual("Groups"u8)) groups = Numbers(value).Select(v => (uint)v).ToArray();
        }
        return new Caller
        {
            Tid = tid, Tgid = tgid, NsTgid = nsTgid, NsTid = nsTid, FsUid = fsUid, FsGid = fsGid, EUid = eUid, EGid = eGid, RUid = rUid, RGid = rGid,
            Groups = groups, CapEff = capEff, Umask = umask,
        };
    }

    static List<ulong> Numbers(ReadOnlySpan<byte> value)
    {
        var list = new List<ulong>();
        ulong current = 0;
        var inNumber = false;
        foreach (var b in value)
        {
            if (b is >= (byte)'0' and <= (byte)'9')
            {
                current = current * 10 + (ulong)(b - '0');
                inNumber = true;
            }
            else if (inNumber)
            {
                list.Add(current);
                current = 0;
                inNumber = false;
            }
        }
        if (inNumber)
            list.Add(current);
        return list;
    }

    static ulong Last(ReadOnlySpan<byte> value, bool first)
    {
        var numbers = Numbers(value);
        return numbers.Count == 0 ? 0 : first ? numbers[0] : numbers[^1];
    }

    /// <summary>Real, effective and file-system id of a Uid:/Gid: line (real, effective, saved, fs).</summary>
    static (uint, uint, uint) Ids(ReadOnlySpan<byte> value)
    {
        var n = Numbers(value);
        return n.Count >= 4 ? ((uint)n[0], (uint)n[1], (uint)n[3]) : (0, 0, 0);
    }

    static ulong Octal(ReadOnlySpan<byte> value)
    {
        ulong v = 0;
        foreach (var b in value)
            if (b is >= (byte)'0' and <= (byte)'7')
                v = v * 8 + (ulong)(b - '0');
        return v;
    }

    static ulong Hex(ReadOnlySpan<byte> value)
    {
        ulong v = 0;
        foreach (var b in value)
        {
            int digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (digit >= 0)
                v = v * 16 + (ulong)digit;
        }
        return v;
    }
}

/// <summary>
/// The supervisor's thread acting as a caller: file-system ids and groups of the caller on this thread
/// only (raw system calls), which drops the file capabilities from its effective set. A thread stays
/// the last caller it acted as until it acts as another or calls <see cref="BeRoot"/>: a loop that
/// answers one process's calls after another would otherwise switch its ids six times per call (each
/// switch is a commit_creds, among the dearest parts of a brokered open). So whatever must run as the
/// supervisor itself (logs, /proc reads, the retries with its own rights) calls BeRoot first.
/// </summary>
public static class ThreadIdentity
{
    /// <summary>Whose file-system ids and groups this thread has now; null: its own (root).</summary>
    [ThreadStatic] static Caller? actingAs;

    public static void ActAs(Caller caller)
    {
        if (actingAs is { } current && (ReferenceEquals(current, caller) || SameIdentity(current, caller)))
            return;
        // CAP_SETUID and CAP_SETGID are not file capabilities: they stay while acting as someone, so one
        // caller's ids go straight to another's.
        Libc.ThreadSetGroups(caller.Groups);
        Libc.ThreadSetFsgid(caller.FsGid);
        Libc.ThreadSetFsuid(caller.FsUid);
        actingAs = caller;
    }

    static bool SameIdentity(Caller a, Caller b) =>
        a.FsUid == b.FsUid && a.FsGid == b.FsGid && a.Groups.AsSpan().SequenceEqual(b.Groups);

    /// <summary>Whether the thread has its own ids now (tests and assertions).</summary>
    public static bool IsRoot => actingAs is null;

    public static void BeRoot()
    {
        if (actingAs is null)
            return;
        Libc.ThreadSetFsuid(0);
        Libc.ThreadSetFsgid(0);
        Libc.ThreadSetGroups([]);
        actingAs = null;
    }

    /// <summary>Also the effective ids (what a unix socket's peer sees): for connect and bind on a worker thread.</summary>
    public static void ActFullyAs(Caller caller)
    {
        BeRoot();
        Libc.ThreadSetGroups(caller.Groups);
        Libc.ThreadSetResgid(-1, caller.EGid, 0);
        Libc.ThreadSetResuid(-1, caller.EUid, 0);
        Libc.ThreadSetFsgid(caller.FsGid);
        Libc.ThreadSetFsuid(caller.FsUid);
    }

    /// <summary>
    /// All of the caller's ids but the saved ones (kept 0, so the thread can come back): a message sent
    /// this way carries the caller's credentials (SCM_CREDENTIALS takes the real ids), and with a non-zero
    /// effective id the thread has no effective capability, so the kernel lets it do no more than the caller.
    /// </summary>
    public static void ActAsSender(Caller caller)
    {
        // Groups and gids while the thread is still root (CAP_SETGID), uids last.
        BeRoot();
        Libc.ThreadSetGroups(caller.Groups);
        Libc.ThreadSetResgid(caller.RGid, caller.EGid, 0);
        Libc.ThreadSetFsgid(caller.FsGid);
        Libc.ThreadSetResuid(caller.RUid, caller.EUid, 0);
        Libc.ThreadSetFsuid(caller.FsUid);
    }

    public static void BeFullyRoot()
    {
        Libc.ThreadSetResuid(0, 0, 0);
        Libc.ThreadSetResgid(0, 0, 0);
        Libc.ThreadSetFsuid(0);
        Libc.ThreadSetFsgid(0);
        Libc.ThreadSetGroups([]);
        actingAs = null;
    }
}
