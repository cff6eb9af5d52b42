using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>
/// A filesystem context of the new mount API (fsopen, fsconfig, fsmount), built one option at a time:
/// each option is its own call, so there is no page-sized option string to overflow (overlay's lowerdir+).
/// </summary>
public sealed unsafe class FsContext : IDisposable
{
    const uint FSOPEN_CLOEXEC = 1, FSMOUNT_CLOEXEC = 1;
    const uint FSCONFIG_SET_FLAG = 0, FSCONFIG_SET_STRING = 1, FSCONFIG_SET_FD = 5, FSCONFIG_CMD_CREATE = 6;

    readonly FileDescriptor context;
    readonly string fstype;

    FsContext(FileDescriptor context, string fstype)
    {
        this.context = context;
        this.fstype = fstype;
    }

    public static FsContext Open(string fstype)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(fstype + "\0");
        fixed (byte* pn = name)
            return new FsContext(new FileDescriptor((int)Errors.Check(Libc.syscall(SyscallNumbers.Fsopen, (long)pn, FSOPEN_CLOEXEC, 0, 0, 0), "fsopen", fstype)), fstype);
    }

    /// <summary>Sets key=value; returns errno (0 on success) so callers can fall back when a key is unknown to this kernel.</summary>
    public int TrySet(string key, string value)
    {
        var k = System.Text.Encoding.UTF8.GetBytes(key + "\0");
        var v = System.Text.Encoding.UTF8.GetBytes(value + "\0");
        fixed (byte* pk = k, pv = v)
            return Libc.syscall(SyscallNumbers.Fsconfig, context.Fd, FSCONFIG_SET_STRING, (long)pk, (long)pv, 0) < 0 ? Errors.LastErrno : 0;
    }

    public void Set(string key, string value)
    {
        var errno = TrySet(key, value);
        if (errno != 0)
            throw new SyscallException("fsconfig", errno, $"{fstype} {key}={value}");
    }

    /// <summary>
    /// Sets key to a descriptor (FSCONFIG_SET_FD): overlay takes its layers this way from Linux 6.13,
    /// which is how a detached idmapped mount becomes a layer. Returns errno (0 on success); an older
    /// kernel answers EINVAL.
    /// </summary>
    public int TrySetFd(string key, FileDescriptor value)
    {
        var k = System.Text.Encoding.UTF8.GetBytes(key + "\0");
        fixed (byte* pk = k)
            return Libc.syscall(SyscallNumbers.Fsconfig, context.Fd, FSCONFIG_SET_FD, (long)pk, 0, value.Fd) < 0 ? Errors.LastErrno : 0;
    }

    public void SetFlag(string key)
    {
        var k = System.Text.Encoding.UTF8.GetBytes(key + "\0");
        fixed (byte* pk = k)
            Errors.Check(Libc.syscall(SyscallNumbers.Fsconfig, context.Fd, FSCONFIG_SET_FLAG, (long)pk, 0, 0), "fsconfig", $"{fstype} {key}");
    }

    /// <summary>Creates the superblock and returns a detached mount of it (attach with <see cref="Libc.MoveMount"/>).</summary>
    public FileDescriptor CreateMount(ulong mountAttributes)
    {
        Errors.Check(Libc.syscall(SyscallNumbers.Fsconfig, context.Fd, FSCONFIG_CMD_CREATE, 0, 0, 0), "fsconfig create", fstype);
        return new FileDescriptor((int)Errors.Check(Libc.syscall(SyscallNumbers.Fsmount, context.Fd, FSMOUNT_CLOEXEC, (long)mountAttributes, 0, 0), "fsmount", fstype));
    }

    public void Dispose() => context.Dispose();
}

public static partial class Libc
{
    [LibraryImport("libc", SetLastError = true)]
    public static partial int syncfs(int fd);
}
