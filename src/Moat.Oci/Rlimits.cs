using System.Collections.Frozen;

namespace Moat.Oci;

/// <summary>RLIMIT_* names as the spec writes them and their resource numbers.</summary>
/// <remarks>
/// Numbers are the asm-generic ones used by x86, arm, arm64, riscv, s390, ppc and loongarch;
/// mips, sparc and alpha number a few resources differently and are not supported.
/// </remarks>
public static class Rlimits
{
    // Index is the resource number passed to setrlimit/prlimit.
    private static readonly string[] NamesByNumber =
    [
        "RLIMIT_CPU",        // 0
        "RLIMIT_FSIZE",      // 1
        "RLIMIT_DATA",       // 2
        "RLIMIT_STACK",      // 3
        "RLIMIT_CORE",       // 4
        "RLIMIT_RSS",        // 5
        "RLIMIT_NPROC",      // 6
        "RLIMIT_NOFILE",     // 7
        "RLIMIT_MEMLOCK",    // 8
        "RLIMIT_AS",         // 9
        "RLIMIT_LOCKS",      // 10
        "RLIMIT_SIGPENDING", // 11
        "RLIMIT_MSGQUEUE",   // 12
        "RLIMIT_NICE",       // 13
        "RLIMIT_RTPRIO",     // 14
        "RLIMIT_RTTIME",     // 15
    ];

    private static readonly FrozenDictionary<string, int> NumbersByName =
        NamesByNumber.Select((name, number) => KeyValuePair.Create(name, number)).ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>RLIM_INFINITY: the value meaning "no limit".</summary>
    public const ulong Infinity = ulong.MaxValue;

    /// <summary>All known names; the position of a name is its resource number.</summary>
    public static IReadOnlyList<string> Names => NamesByNumber;

    public static bool IsKnown(string name) => NumbersByName.ContainsKey(name);

    public static bool TryGetNumber(string name, out int number) => NumbersByName.TryGetValue(name, out number);

    public static int GetNumber(string name) =>
        NumbersByName.TryGetValue(name, out var number)
            ? number
            : throw new ArgumentException($"unknown rlimit type \"{name}\"", nameof(name));

    public static string GetName(int number) =>
        number >= 0 && number < NamesByNumber.Length
            ? NamesByNumber[number]
            : throw new ArgumentOutOfRangeException(nameof(number), number, "unknown rlimit number");
}
