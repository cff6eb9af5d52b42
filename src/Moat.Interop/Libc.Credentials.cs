using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>User and group ids, supplementary groups and capability sets.</summary>
public static unsafe partial class Libc
{
    // Raw system calls on purpose: they change only the calling thread, which is the one that execs.
    // (glibc's wrappers broadcast to every thread of the .NET runtime, which is what we want for
    // ids and groups, so those use the wrappers.)
    [LibraryImport("libc", SetLastError = true)]
    public static partial int setresuid(uint ruid, uint euid, uint suid);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setresgid(uint rgid, uint egid, uint sgid);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setgroups(nint size, uint* list);

    [LibraryImport("libc", SetLastError = true)]
    public static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true)]
    public static partial uint getuid();

    public const uint LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    [StructLayout(LayoutKind.Sequential)]
    struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct CapData
    {
        public uint Effective, Permitted, Inheritable;
    }

    /// <summary>capset(2) for the calling thread, with 64-bit masks.</summary>
    public static void CapSet(ulong effective, ulong permitted, ulong inheritable)
    {
        var header = new CapHeader { Version = LINUX_CAPABILITY_VERSION_3, Pid = 0 };
        var data = stackalloc CapData[2];
        data[0] = new CapData { Effective = (uint)effective, Permitted = (uint)permitted, Inheritable = (uint)inheritable };
        data[1] = new CapData { Effective = (uint)(effective >> 32), Permitted = (uint)(permitted >> 32), Inheritable = (uint)(inheritable >> 32) };
        Errors.Check(syscall(SyscallNumbers.Capset, (long)&header, (long)data, 0, 0, 0), "capset");
    }

    /// <summary>The highest capability number this kernel knows (from /proc/sys/kernel/cap_last_cap).</summary>
    public static int LastCapability() =>
        TryReadText("/proc/sys/kernel/cap_last_cap") is { } text && int.TryParse(text.AsSpan().Trim(), out var last) ? last : 40;
}

public static partial class Libc
{
    [LibraryImport("libc", SetLastError = true)]
    public static partial uint getegid();
}
