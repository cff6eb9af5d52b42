using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// The calls the sandbox supervisor performs for a workload, on raw NUL-terminated buffers read out
/// of the workload's memory (no string marshalling on a path it takes thousands of times a second).
/// Each returns its result, or -errno: the errno is the workload's answer, not an exception.
/// </summary>
public static unsafe partial class Libc
{
    static int Result(long value) => value >= 0 ? (int)value : -Errors.LastErrno;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int openat(int dirfd, byte* path, int flags, uint mode);
    [LibraryImport("libc", SetLastError = true)]
    private static partial nint readlinkat(int dirfd, byte* path, byte* buffer, nint size);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int mkdirat(int dirfd, byte* path, uint mode);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int mknodat(int dirfd, byte* path, uint mode, ulong dev);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int unlinkat(int dirfd, byte* path, int flags);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int renameat2(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, uint flags);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int linkat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, int flags);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int symlinkat(byte* target, int newdirfd, byte* linkpath);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int fchownat(int dirfd, byte* path, uint owner, uint group, int flags);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int ftruncate(int fd, long length);
    [LibraryImport("libc", SetLastError = true)]
    private static partial nint sendto(int fd, byte* buffer, nint length, int flags, byte* address, uint addressLength);
    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(int fd, int level, int name, void* value, uint* length);

    public const int SO_TYPE = 3, SO_DOMAIN = 39;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int statx(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    /// <summary>Owner, group and mode (type bits included) of the inode a descriptor (O_PATH too) refers to.</summary>
    public static bool DescriptorOwner(int fd, out uint uid, out uint gid, out uint mode)
    {
        var buffer = stackalloc byte[256];
        var empty = stackalloc byte[1];
        empty[0] = 0;
        uid = gid = mode = 0;
        if (statx(fd, empty, AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID, buffer) < 0)
            return false;
        // struct statx: mask u32, blksize u32, attributes u64, nlink u32, uid u32, gid u32, mode u16
        uid = *(uint*)(buffer + 20);
        gid = *(uint*)(buffer + 24);
        mode = *(ushort*)(buffer + 28);
        return true;
    }

    /// <summary>The type bits (S_IFMT) of <paramref name="path"/> relative to <paramref name="dirfd"/>, not following a final symlink; -errno.</summary>
    public static int BrokerTypeOf(int dirfd, byte* path)
    {
        var buffer = stackalloc byte[256];
        if (statx(dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE, buffer) < 0)
            return -Errors.LastErrno;
        return *(ushort*)(buffer + 28) & 0xF000;
    }

    /// <summary>fcntl F_SETFL: the status flags of an open descriptor; 0 or -errno.</summary>
    public static int BrokerSetStatusFlags(int fd, int flags) => Result(fcntl(fd, F_SETFL, flags));

    public static int BrokerOpenat2(int dirfd, byte* path, ulong flags, ulong mode, ulong resolve)
    {
        var how = new OpenHow { Flags = flags, Mode = mode, Resolve = resolve };
        return Result(syscall(SyscallNumbers.Openat2, dirfd, (long)path, (long)&how, sizeof(OpenHow), 0));
    }

    public static int BrokerOpenat(int dirfd, byte* path, int flags, uint mode) => Result(openat(dirfd, path, flags, mode));

    public static int BrokerReadlinkat(int dirfd, byte* path, byte* buffer, int size) => Result(readlinkat(dirfd, path, buffer, size));

    public static int BrokerMkdirat(int dirfd, byte* name, uint mode) => Result(mkdirat(dirfd, name, mode));

    public static int BrokerMknodat(int dirfd, byte* name, uint mode, ulong dev) => Result(mknodat(dirfd, name, mode, dev));

    public static int BrokerUnlinkat(int dirfd, byte* name, int flags) => Result(unlinkat(dirfd, name, flags));

    public static int BrokerRenameat2(int olddirfd, byte* oldname, int newdirfd, byte* newname, uint flags) =>
        Result(renameat2(olddirfd, oldname, newdirfd, newname, flags));

    public static int BrokerLinkat(int olddirfd, byte* oldname, int newdirfd, byte* newname, int flags) =>
        Result(linkat(olddirfd, oldname, newdirfd, newname, flags));

    public static int BrokerSymlinkat(byte* target, int newdirfd, byte* linkname) => Result(symlinkat(target, newdirfd, linkname));

    /// <summary>fchmodat2 (Linux 6.6) with AT_EMPTY_PATH on an O_PATH descriptor: the mode of exactly that inode.</summary>
    public static int BrokerFchmod(int fd, uint mode)
    {
        var empty = stackalloc byte[1];
        empty[0] = 0;
        return Result(syscall(452, fd, (long)empty, mode, AT_EMPTY_PATH, 0));
    }

    public static int BrokerFchown(int fd, uint owner, uint group)
    {
        var empty = stackalloc byte[1];
        empty[0] = 0;
        return Result(fchownat(fd, empty, owner, group, AT_EMPTY_PATH));
    }

    public static int BrokerFtruncate(int fd, long length) => Result(ftruncate(fd, length));

    public static int BrokerConnect(int fd, byte* address, uint length)
    {
        int r;
        do
            r = connect(fd, address, length);
        while (r < 0 && Errors.LastErrno == Errors.EINTR);
        return Result(r);
    }

    public static int BrokerBind(int fd, byte* address, uint length) => Result(bind(fd, address, length));

    public static long BrokerSendto(int fd, byte* buffer, nint length, int flags, byte* address, uint addressLength)
    {
        var n = sendto(fd, buffer, length, flags, address, addressLength);
        return n >= 0 ? n : -Errors.LastErrno;
    }

    /// <summary>sendmsg(2) of a message the supervisor copied out of a workload: bytes sent, or -errno (EINTR retried).</summary>
    public static long BrokerSendmsg(int fd, MsgHdr* message, int flags)
    {
        nint n;
        do
            n = sendmsg(fd, message, flags);
        while (n < 0 && Errors.LastErrno == Errors.EINTR);
        return n >= 0 ? n : -Errors.LastErrno;
    }

    /// <summary>An integer socket option (SO_DOMAIN, SO_TYPE), or -errno.</summary>
    public static int SocketOption(int fd, int name)
    {
        int value;
        uint length = sizeof(int);
        var r = getsockopt(fd, SOL_SOCKET, name, &value, &length);
        return r < 0 ? -Errors.LastErrno : value;
    }
}
