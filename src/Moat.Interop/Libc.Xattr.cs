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

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint flistxattr(int fd, byte* list, nint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint fgetxattr(int fd, string name, byte* value, nint size);

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
    public static List<(string Name, byte[] Value)> ListXattrs(string path) =>
        ListXattrs(path, (list, size) => llistxattr(path, list, size), (name, value, size) => lgetxattr(path, name, value, size));

    /// <summary>The xattrs of an open (not O_PATH) descriptor.</summary>
    public static List<(string Name, byte[] Value)> ListXattrs(int fd, string what) =>
        ListXattrs(what, (list, size) => flistxattr(fd, list, size), (name, value, size) => fgetxattr(fd, name, value, size));

    delegate nint Lister(byte* list, nint size);
    delegate nint Getter(string name, byte* value, nint size);

    static List<(string Name, byte[] Value)> ListXattrs(string what, Lister list, Getter get)
    {
        var result = new List<(string, byte[])>();
        while (true)
        {
            var size = list(null, 0);
            if (size < 0)
            {
                if (Errors.LastErrno == Errors.EOPNOTSUPP)
                    return result;
                throw new SyscallException("listxattr", Errors.LastErrno, what);
            }
            if (size == 0)
                return result;
            var names = new byte[size];
            fixed (byte* pl = names)
                size = list(pl, names.Length);
            if (size < 0 && Errors.LastErrno == Errors.ERANGE)
                continue; // grew since asked
            if (size < 0)
                throw new SyscallException("listxattr", Errors.LastErrno, what);
            var start = 0;
            for (var i = 0; i < size; i++)
            {
                if (names[i] != 0)
                    continue;
                var name = System.Text.Encoding.UTF8.GetString(names, start, i - start);
                start = i + 1;
                if (GetXattr(what, name, get) is { } value)
                    result.Add((name, value));
            }
            return result;
        }
    }

    static byte[]? GetXattr(string what, string name, Getter get)
    {
        while (true)
        {
            var size = get(name, null, 0);
            if (size < 0)
            {
                if (Errors.LastErrno is ENODATA or ENOTSUP)
                    return null;
                throw new SyscallException("getxattr " + name, Errors.LastErrno, what);
            }
            var value = new byte[size];
            fixed (byte* pv = value)
                size = get(name, pv, value.Length);
            if (size < 0 && Errors.LastErrno == Errors.ERANGE)
                continue;
            if (size < 0)
                throw new SyscallException("getxattr " + name, Errors.LastErrno, what);
            return value.AsSpan(0, (int)size).ToArray();
        }
    }

    const int ENOTSUP = Errors.EOPNOTSUPP, ENODATA = 61;

    /// <summary>One xattr of a path (not following a final symlink), or null when it is absent.</summary>
    public static byte[]? GetXattr(string path, string name) => GetXattr(path, name, (n, value, size) => lgetxattr(path, n, value, size));
}
