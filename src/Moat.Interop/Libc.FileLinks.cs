using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Link counts of open files (statx on a descriptor).</summary>
public static unsafe partial class Libc
{
    const uint STATX_NLINK = 4;

    /// <summary>
    /// How many directory entries name the open file; 0 once it has been unlinked. A lock taken on a
    /// lock file that someone removed meanwhile protects nothing: the caller sees 0 and opens the path again.
    /// stx_nlink is at offset 16 of struct statx on every architecture.
    /// </summary>
    public static uint LinkCount(FileDescriptor fd)
    {
        var buffer = stackalloc byte[256];
        Errors.Check(statx(fd.Fd, "", AT_EMPTY_PATH, STATX_NLINK, buffer), "statx", "an open lock file");
        return *(uint*)(buffer + 16);
    }
}
