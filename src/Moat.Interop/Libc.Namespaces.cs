using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>Namespaces and the names they hold.</summary>
public static unsafe partial class Libc
{
    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int nstype);

    /// <summary>
    /// unshare(2). Only flags that do not need a single-threaded caller belong here (not NEWUSER or
    /// NEWNS); the new namespace is the calling thread's, and so its exec's.
    /// </summary>
    [LibraryImport("libc", SetLastError = true)]
    public static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sethostname(byte* name, nint len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setdomainname(byte* name, nint len);

    public static void SetHostname(string name)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(name);
        fixed (byte* p = bytes)
            Errors.Check(sethostname(p, bytes.Length), "sethostname", name);
    }

    public static void SetDomainname(string name)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(name);
        fixed (byte* p = bytes)
            Errors.Check(setdomainname(p, bytes.Length), "setdomainname", name);
    }
}
