using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// native/keep-awake.c: the page a sandbox supervisor shares with its keep-awake process, whose spinners
/// keep the container's CPUs from halting while brokered calls come fast (docs/sandbox.md, "Keeping the
/// CPUs awake"). Linked into moat-runtime only.
/// </summary>
public static unsafe partial class NativeKeepAwake
{
    /// <summary>Creates and maps the shared page; its memfd (close-on-exec) in <paramref name="fd"/>. Null with errno set on failure.</summary>
    [LibraryImport("moatspawn", EntryPoint = "moat_awake_create", SetLastError = true)]
    public static partial void* Create(long windowNanoseconds, int* fd);

    /// <summary>
    /// After each answer: 1 when it came within the window of the one before (the parked spinners were
    /// woken), else 0. A clock read and an atomic exchange; a futex wake only when spinners are parked.
    /// </summary>
    [LibraryImport("moatspawn", EntryPoint = "moat_awake_touch")]
    [SuppressGCTransition]
    public static partial int Touch(void* page);

    /// <summary>
    /// The keep-awake process's work: maps the page from <paramref name="fd"/>, starts a SCHED_IDLE spinner
    /// confined to each of <paramref name="cpus"/>, and returns 0 once <paramref name="parentPidfd"/>
    /// polls readable; an errno when no spinner could start.
    /// </summary>
    [LibraryImport("moatspawn", EntryPoint = "moat_awake_serve")]
    public static partial int Serve(int fd, int parentPidfd, int* cpus, int count);
}
