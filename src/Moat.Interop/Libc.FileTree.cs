using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>What statx(2) says about one file: the fields that unpacking and tree copies need.</summary>
public readonly record struct FileStatus(uint Mode, uint Uid, uint Gid, ulong Size, uint LinkCount, ulong Inode,
    uint DeviceMajor, uint DeviceMinor, uint RdevMajor, uint RdevMinor,
    long AccessSeconds, uint AccessNanoseconds, long ModifySeconds, uint ModifyNanoseconds)
{
    public uint Type => Mode & Libc.S_IFMT;
    public bool IsDirectory => Type == Libc.S_IFDIR;
    public bool IsRegular => Type == Libc.S_IFREG;
    public bool IsSymlink => Type == Libc.S_IFLNK;
}

/// <summary>
/// The *at family on directory descriptors, for building and walking trees without following symlinks
/// out of them: stat, link, rename, chmod, timestamps, directory listing and in-kernel file copies.
/// </summary>
public static unsafe partial class Libc
{
    const uint STATX_BASIC_STATS = 0x7ff;
    public const int RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2;
    /// <summary>utimensat's "leave this time alone" nanosecond value.</summary>
    public const long UTIME_OMIT = (1L << 30) - 2;

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds, Nanoseconds;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int linkat(int olddirfd, string oldpath, int newdirfd, string newpath, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int fchmodat(int dirfd, string path, uint mode, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int utimensat(int dirfd, string path, Timespec* times, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int futimens(int fd, Timespec* times);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint getdents64(int fd, byte* buffer, nint size);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint copy_file_range(int fdIn, long* offIn, int fdOut, long* offOut, nint length, uint flags);

    /// <summary>FICLONE: the destination shares the source's extents (btrfs, xfs); fails elsewhere.</summary>
    public const ulong FICLONE = 0x40049409;

    /// <summary>glibc's dev_t encoding of a major and minor number, for mknodat.</summary>
    public static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) |
        ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    static FileStatus ToStatus(byte* b) => new(
        *(ushort*)(b + 28), *(uint*)(b + 20), *(uint*)(b + 24), *(ulong*)(b + 40), *(uint*)(b + 16), *(ulong*)(b + 32),
        *(uint*)(b + 136), *(uint*)(b + 140), *(uint*)(b + 128), *(uint*)(b + 132),
        *(long*)(b + 64), *(uint*)(b + 72), *(long*)(b + 112), *(uint*)(b + 120));

    /// <summary>statx of path relative to dirfd, not following a final symlink; null when it does not exist.</summary>
    public static FileStatus? TryStatAt(int dirfd, string path)
    {
        var buffer = stackalloc byte[256];
        if (statx(dirfd, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buffer) == 0)
            return ToStatus(buffer);
        if (Errors.LastErrno is Errors.ENOENT or Errors.ENOTDIR)
            return null;
        throw new SyscallException("statx", Errors.LastErrno, path);
    }

    /// <summary>statx of an open descriptor (O_PATH ones too).</summary>
    public static FileStatus StatOf(int fd, string what)
    {
        var buffer = stackalloc byte[256];
        Errors.Check(statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buffer), "statx", what);
        return ToStatus(buffer);
    }

    /// <summary>The target of the symlink at path relative to dirfd.</summary>
    public static string ReadLinkAt(int dirfd, string path)
    {
        var size = 4096;
        while (true)
        {
            var buffer = new byte[size];
            nint n;
            fixed (byte* p = buffer)
                n = readlinkat(dirfd, path, p, size);
            if (n < 0)
                throw new SyscallException("readlink", Errors.LastErrno, path);
            if (n < size)
                return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)n);
            size *= 4;
        }
    }

    /// <summary>Sets access and modification times (seconds, nanoseconds) of path relative to dirfd, not following a final symlink.</summary>
    public static void SetTimesAt(int dirfd, string path, long accessSeconds, long accessNanoseconds, long modifySeconds, long modifyNanoseconds)
    {
        var times = stackalloc Timespec[2];
        times[0] = new Timespec { Seconds = accessSeconds, Nanoseconds = accessNanoseconds };
        times[1] = new Timespec { Seconds = modifySeconds, Nanoseconds = modifyNanoseconds };
        Errors.Check(utimensat(dirfd, path, times, AT_SYMLINK_NOFOLLOW), "utimensat", path);
    }

    public static void SetTimes(int fd, long accessSeconds, long accessNanoseconds, long modifySeconds, long modifyNanoseconds, string what)
    {
        var times = stackalloc Timespec[2];
        times[0] = new Timespec { Seconds = accessSeconds, Nanoseconds = accessNanoseconds };
        times[1] = new Timespec { Seconds = modifySeconds, Nanoseconds = modifyNanoseconds };
        Errors.Check(futimens(fd, times), "futimens", what);
    }

    /// <summary>
    /// The names in an open directory (not "." or ".."), with the d_type the filesystem reports
    /// (DT_UNKNOWN = 0 on some filesystems: callers stat those).
    /// </summary>
    public static List<(string Name, byte Type)> ListDirectory(int dirfd, string what)
    {
        var names = new List<(string, byte)>();
        var buffer = new byte[32768];
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = getdents64(dirfd, p, buffer.Length);
                if (n < 0)
                {
                    if (Errors.LastErrno == Errors.EINTR)
                        continue;
                    throw new SyscallException("getdents64", Errors.LastErrno, what);
                }
                if (n == 0)
                    return names;
                for (nint offset = 0; offset < n;)
                {
                    // struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name[].
                    var record = p + offset;
                    var length = *(ushort*)(record + 16);
                    var type = record[18];
                    var name = record + 19;
                    var nameLength = 0;
                    while (name[nameLength] != 0)
                        nameLength++;
                    if (!(nameLength == 1 && name[0] == '.') && !(nameLength == 2 && name[0] == '.' && name[1] == '.'))
                        names.Add((System.Text.Encoding.UTF8.GetString(name, nameLength), type));
                    offset += length;
                }
            }
        }
    }

    public const byte DT_UNKNOWN = 0, DT_DIR = 4;
}
