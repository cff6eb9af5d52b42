using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// ptrace(2), for one use: the sandbox supervisor seizes a container's init with PTRACE_O_EXITKILL, so
/// that the kernel kills the container when the supervisor goes, whatever way it goes.
/// </summary>
public static unsafe partial class Libc
{
    public const long PTRACE_CONT = 7, PTRACE_SEIZE = 0x4206, PTRACE_LISTEN = 0x4208;
    public const ulong PTRACE_O_EXITKILL = 0x100000;
    /// <summary>The event in a stop status (status >> 16) that says "group-stop" for a seized tracee.</summary>
    public const int PTRACE_EVENT_STOP = 128;
    public const int __WALL = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial long ptrace(long request, int pid, nint address, nint data);

    public static long Ptrace(long request, int pid, nint address, nint data) => ptrace(request, pid, address, data);
}
