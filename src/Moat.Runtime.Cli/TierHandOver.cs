using Moat.Interop;
using Moat.Runtime.Tiers;

namespace Moat.Runtime.Cli;

/// <summary>
/// moat-runtime carries the container tier only: every container it starts pays for each byte of
/// the binary at each process start (PIE relocation of its data), so the sandbox and vm tiers live
/// in moat-runtime-tiers beside it. A command that concerns one of their containers (a new one that
/// asks for the tier, or one whose state records it) is handed over by execve with the same
/// arguments: the same process goes on as the other program, no second process lives.
/// </summary>
public static class TierHandOver
{
    public const string TiersExecutable = "moat-runtime-tiers";

    /// <summary>This process's arguments, argv[0] included, as it was started.</summary>
    public static IReadOnlyList<string> Arguments { get; set; } = [];

    public static void To(Isolation tier)
    {
        var directory = Path.GetDirectoryName(Environment.ProcessPath) ?? "/";
        var tiers = Path.Combine(directory, TiersExecutable);
        if (!File.Exists(tiers))
            throw new RuntimeException($"the {tier.ToName()} isolation tier is in {TiersExecutable}, which is not installed beside {Environment.ProcessPath}");
        Libc.ExecReplacing(tiers, Arguments);
    }
}
