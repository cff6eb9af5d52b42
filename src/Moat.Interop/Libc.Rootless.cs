using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// native/rootless.c, linked into bin/moat only (elsewhere these throw DllNotFoundException): the join of
/// the rootless engine's namespaces before main, and the process that holds them.
/// </summary>
public static unsafe partial class NativeRootless
{
    /// <summary>-1: no join was asked for; 0: this process joined; &gt; 0: the errno of the step that failed.</summary>
    [LibraryImport("moatrootless", EntryPoint = "moat_rootless_join_status")]
    public static partial int JoinStatus();

    [LibraryImport("moatrootless", EntryPoint = "moat_rootless_join_step")]
    private static partial byte* JoinStepNative();

    /// <summary>Which step of the join failed (for the error message).</summary>
    public static string JoinStep() => Marshal.PtrToStringUTF8((IntPtr)JoinStepNative()) ?? "";

    /// <summary>A detached child in a new user and mount namespace that sleeps until killed: its pid, or -errno.</summary>
    [LibraryImport("moatrootless", EntryPoint = "moat_rootless_spawn_holder")]
    public static partial int SpawnHolder();
}
