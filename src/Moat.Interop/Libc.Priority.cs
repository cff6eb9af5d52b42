using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Scheduling priority (nice) of the calling thread: the sandbox supervisor answers trapped calls ahead of batch work.</summary>
public static partial class Libc
{
    public const int PRIO_PROCESS = 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, uint who, int priority);

    /// <summary>setpriority(PRIO_PROCESS, 0, nice): on Linux, the calling thread only (threads it starts later inherit it); 0 or -errno.</summary>
    public static int SetThreadNice(int nice) => setpriority(PRIO_PROCESS, 0, nice) == 0 ? 0 : -Errors.LastErrno;
}
