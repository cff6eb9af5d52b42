using Moat.Interop;

namespace Moat.Engine.Containers;

/// <summary>
/// Named steps where a crash-recovery test can stop `moat` dead: with MOAT_CRASH_AT=&lt;name&gt; in its
/// environment the process sends itself SIGKILL on reaching that step. A test that kills `moat` on a timer
/// races it (a faster `moat` finishes before the kill and the test proves nothing); this kills at the exact
/// step, with no cleanup code run, as a power cut or the OOM killer would.
/// </summary>
public static class CrashPoint
{
    public const string EnvironmentVariable = "MOAT_CRASH_AT";

    /// <summary>After the container's network (namespace, veths, addresses, firewall rules) is made, before the runtime's create.</summary>
    public const string NetworkAttached = "network-attached";

    static readonly string? Armed = Environment.GetEnvironmentVariable(EnvironmentVariable);

    public static void Reach(string name)
    {
        if (Armed is not null && string.Equals(Armed, name, StringComparison.Ordinal))
            Libc.kill(Libc.getpid(), 9 /* SIGKILL */);
    }
}
