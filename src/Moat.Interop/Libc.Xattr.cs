using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Extended attributes: on descriptors, and on names relative to a directory without following symlinks.</summary>
public static unsafe partial class Libc
{
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int fsetxattr(int fd, string name, byte* value, nint size, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lsetxattr(string path, string name, byte* value, nint size, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint llistxattr(string path, byte* list, nint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint lgetxattr(string path, string name, byte* value, nint size);

    [StructLayout(LayoutKind.Sequential)]
    struct XattrArgs
    {
        public ulong Value;
        public uint Size, Flags;
    }

    const long SetxattratNumber = 463;
    static bool setxattratMissing;

    /// <summary>Sets an xattr on an open (not O_PATH) descriptor.</summary>
    public static void SetXattr(int fd, string name, ReadOnlySpan<byte> value, string what)
    {
        fixed (byte* p = value)
            Errors.Check(fsetxattr(fd, name, p, value.Length, 0), "fsetxattr " + name, what);
    }

    /// <summary>
    /// Sets an xattr on path relative to dirfd without following a final symlink: setxattrat(2) (Linux 6.13),
    /// else lsetxattr through the directory's /proc/self/fd link, which resolves only the directory.
    /// Returns errno (0 on success) so callers can tell "not supported here" from a real failure.
    /// </summary>
    public static int TrySetXattrAt(int dirfd, string path, string name, ReadOnlySpan<byte> value)
    {
        fixed (byte* p = value)
        {
            if (!setxattratMissing)
            {
                var pathBytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
                var nameBytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
                var args = new XattrArgs { Value = (ulong)p, Size = (uint)value.Length };
                fixed (byte* pp = pathBytes, pn = nameBytes)
                {
                    var flags = path.Length == 0 ? AT_EMPTY_PATH : AT_SYMLINK_NOFOLLOW;
                    if (syscall6(SetxattratNumber, dirfd, (long)pp, flags, (long)pn, (long)&args, sizeof(XattrArgs)) == 0)
                        return 0;
                }
                if (Errors.LastErrno != Errors.ENOSYS)
                    return Errors.LastErrno;
                setxattratMissing = true;
            }
            var via = path.Length == 0 ? $"/proc/self/fd/{dirfd}" : $"/proc/self/fd/{dirfd}/{path}";
            return lsetxattr(via, name, p, value.Length, 0) == 0 ? 0 : Errors.LastErrno;
        }
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall6(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    /// <summary>The xattrs of a path (not following a final symlink), names with values.</summary>
    public static List<(string Name, byte[] Value)> ListXattrs(string path)
    {
        var result = new List<(string, byte[])>();
        var size = llistxattr(path, null, 0);
        if (size < 0)
        {
            if (Errors.LastErrno == Errors.EOPNOTSUPP)
                return result;
            throw new SyscallException("llistxattr", Errors.LastErrno, path);
        }
        if (size == 0)
            return result;
        var list = new byte[size + 256];
        fixed (byte* pl = list)
            size = (nint)Errors.Check((long)llistxattr(path, pl, list.Length), "llistxattr", path);
        var start = 0;
        for (var i = 0; i < size; i++)
        {
            if (list[i] != 0)
                continue;
            var name = System.Text.Encoding.UTF8.GetString(list, start, i - start);
            start = i + 1;
            if (GetXattr(path, name) is { } value)
                result.Add((name, value));
        }
        return result;
    }

    const int ENOTSUP = Errors.EOPNOTSUPP, ENODATA = 61;

    /// <summary>One xattr of a path (not following a final symlink), or null when it is absent.</summary>
    public static byte[]? GetXattr(string path, string name)
    {
        var size = lgetxattr(path, name, null, 0);
        if (size < 0)
        {
            if (Errors.LastErrno is ENODATA or ENOTSUP)
                return null;
            throw new SyscallException("lgetxattr " + name, Errors.LastErrno, path);
        }
        var value = new byte[size];
        fixed (byte* pv = value)
            size = lgetxattr(path, name, pv, value.Length);
        if (size < 0)
            throw new SyscallException("lgetxattr " + name, Errors.LastErrno, path);
        return value.AsSpan(0, (int)size).ToArray();
    }
}
